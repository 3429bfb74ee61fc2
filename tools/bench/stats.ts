import type { SandboxRequestRecord } from '../../src/sandbox/server.js';

/**
 * Pure arithmetic over what the sandbox recorded: call counts by kind, the achieved rate, the most calls in
 * any sliding window, percentiles. No I/O, no clock.
 */

/** CHeKT calls of one measured interval, split the way the bench table reports them. */
export interface CallSummary {
  /** Every request the sandbox answered (token, lists, writes, GETs, 429s included). */
  readonly calls: number;
  /** Requests not answered 429. */
  readonly accepted: number;
  readonly rateLimited: number;
  readonly tokens: number;
  /** `GET .../contacts` (one list of one site). */
  readonly lists: number;
  /** `GET .../contacts/{id}` (one contact read before an update, or a lookup). */
  readonly gets: number;
  /** POST, PUT and DELETE on the contacts routes, any status. */
  readonly writes: number;
  /** Epoch ms of the first and last request; null when there were none. */
  readonly firstAt: number | null;
  readonly lastAt: number | null;
  /** Accepted calls per minute between the first and last request (0 with fewer than two calls). */
  readonly acceptedPerMinute: number;
  /** Most requests (any status) that arrived within any 1 s and any 60 s sliding window. */
  readonly max1s: number;
  readonly max60s: number;
}

const LIST_ROUTE = 'GET /partner/v1/dealers/:dealerId/sites/:siteId/contacts';
const GET_ROUTE = 'GET /partner/v1/dealers/:dealerId/sites/:siteId/contacts/:contactId';
const TOKEN_ROUTE = 'POST /oauth/token';

/** Summarises the sandbox's request log (already limited to the interval of interest). */
export function summarizeCalls(records: readonly SandboxRequestRecord[]): CallSummary {
  const times = records.map((r) => r.at).sort((a, b) => a - b);
  const accepted = records.filter((r) => r.status !== 429);
  const acceptedTimes = accepted.map((r) => r.at).sort((a, b) => a - b);
  return {
    calls: records.length,
    accepted: accepted.length,
    rateLimited: records.length - accepted.length,
    tokens: records.filter((r) => r.route === TOKEN_ROUTE).length,
    lists: records.filter((r) => r.route === LIST_ROUTE).length,
    gets: records.filter((r) => r.route === GET_ROUTE).length,
    writes: records.filter((r) => r.method !== 'GET' && r.route !== TOKEN_ROUTE).length,
    firstAt: times[0] ?? null,
    lastAt: times.at(-1) ?? null,
    acceptedPerMinute: ratePerMinute(acceptedTimes),
    max1s: maxInWindow(times, 1000),
    max60s: maxInWindow(times, 60_000),
  };
}

/**
 * Events per minute over the span between the first and the last event: (n - 1) intervals in that span.
 * 0 when there are fewer than two events or they share one millisecond.
 */
export function ratePerMinute(sortedTimes: readonly number[]): number {
  const first = sortedTimes[0];
  const last = sortedTimes.at(-1);
  if (first === undefined || last === undefined || last <= first) return 0;
  return ((sortedTimes.length - 1) / (last - first)) * 60_000;
}

/** The most events within any window `[t, t + windowMs)`, sliding over sorted epoch-ms times. */
export function maxInWindow(sortedTimes: readonly number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < sortedTimes.length; end++) {
    while (sortedTimes[end]! - sortedTimes[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/** Nearest-rank percentile (p in 0..100) of `values`; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}
