import type { SandboxRequestRecord, SandboxStats } from './types.js';

/** How many request records are kept (oldest dropped first); counters stay exact beyond it. */
export const DEFAULT_RECORD_CAP = 100_000;

/** RFC 4122 UUID (versions 1-5, variant 10xx); CHeKT's documented example `550e8400-e29b-41d4-a716-…` matches. */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Whether `value` is an RFC 4122 UUID. */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'DELETE']);
export const TOKEN_ROUTE = 'POST /oauth/token';

/** Records API requests and keeps the {@link SandboxStats} counters. Pure. */
export class RequestRecorder {
  private records: SandboxRequestRecord[] = [];
  private counters: SandboxStats = emptyStats();

  constructor(private readonly cap: number = DEFAULT_RECORD_CAP) {}

  record(entry: SandboxRequestRecord): void {
    this.records.push(entry);
    // Trim in batches so a full buffer does not shift 100k entries per request.
    if (this.records.length > this.cap + 1000) this.records = this.records.slice(-this.cap);
    const s = this.counters;
    s.total += 1;
    s.byRoute[entry.route] = (s.byRoute[entry.route] ?? 0) + 1;
    s.byStatus[String(entry.status)] = (s.byStatus[String(entry.status)] ?? 0) + 1;
    if (WRITE_METHODS.has(entry.method) && entry.route.includes('/contacts')) s.writes += 1;
    if (entry.route === TOKEN_ROUTE && entry.status === 200) s.tokens += 1;
    if (entry.status === 429) s.rateLimited += 1;
    if (entry.status === 0) s.dropped += 1;
  }

  /** A copy of the counters. */
  stats(): SandboxStats {
    const s = this.counters;
    return { ...s, byRoute: { ...s.byRoute }, byStatus: { ...s.byStatus } };
  }

  /** Copies of the last `cap` records, oldest first. */
  requests(): SandboxRequestRecord[] {
    const kept = this.records.length > this.cap ? this.records.slice(-this.cap) : this.records;
    return kept.map((r) => ({ ...r }));
  }

  reset(): void {
    this.records = [];
    this.counters = emptyStats();
  }
}

function emptyStats(): SandboxStats {
  return { total: 0, byRoute: {}, byStatus: {}, writes: 0, tokens: 0, rateLimited: 0, dropped: 0 };
}
