/**
 * The bench's one table: a row per scenario and mode (the service's `changes` mode beside the naive
 * `reconcile` baseline), printed as Markdown so it can be pasted into docs/BENCHMARKS.md as it is.
 */

/** One row. `null` prints as "—" (the column does not apply). */
export interface Row {
  readonly scenario: string;
  /** `changes` (the service), `reconcile` (naive baseline: list every site, then write), or another label. */
  readonly mode: string;
  readonly contacts: number;
  readonly sites: number;
  /** CRM contacts created, edited or deleted since the previous sync. */
  readonly changes: number | null;
  /** Every request CHeKT received: token, lists, GETs, writes, 429s. */
  readonly calls: number | null;
  /** Fewest writes that make CHeKT equal to the CRM (bench/data.ts idealWrites). */
  readonly ideal: number | null;
  readonly wallMs: number | null;
  /** Accepted CHeKT calls per minute while the scenario ran, and the limit it is compared with. */
  readonly perMinute: number | null;
  readonly limit: number | null;
  /** Time between the first and last call, ms: under {@link MIN_RATE_SPAN_MS} the rate is shown without a share of the limit. */
  readonly rateSpanMs?: number;
  /** Commit→CHeKT latency percentiles, seconds. */
  readonly p50: number | null;
  readonly p95: number | null;
  readonly rssMb: number | null;
  readonly notes: string;
  /** False when a correctness check of this row failed (the bench then exits 1). */
  readonly ok: boolean;
}

/**
 * Shorter runs show their rate without a share of the limit: the limiter grants whole 1 s windows, so a run of a
 * few seconds can run above the per-minute rate by up to one window's burst (docs/CHEKT-API.md "Rate limit").
 */
export const MIN_RATE_SPAN_MS = 10_000;

const HEADERS = [
  'scenario',
  'mode',
  'contacts',
  'sites',
  'changes',
  'CHeKT calls',
  'ideal calls',
  'calls/change',
  'wall (s)',
  'calls/min (% of limit)',
  'commit→CHeKT p50 / p95 (s)',
  'peak RSS (MB)',
  'check',
  'notes',
];

/** Renders the rows as one Markdown table. */
export function formatTable(rows: readonly Row[]): string {
  const lines = rows.map((r) => [
    r.scenario,
    r.mode,
    int(r.contacts),
    int(r.sites),
    r.changes === null ? '—' : int(r.changes),
    r.calls === null ? '—' : int(r.calls),
    r.ideal === null ? '—' : int(r.ideal),
    perChange(r),
    r.wallMs === null ? '—' : (r.wallMs / 1000).toFixed(1),
    rate(r),
    r.p50 === null || r.p95 === null ? '—' : `${r.p50.toFixed(2)} / ${r.p95.toFixed(2)}`,
    r.rssMb === null ? '—' : String(Math.round(r.rssMb)),
    r.ok ? 'ok' : 'FAIL',
    r.notes,
  ]);
  const out = [`| ${HEADERS.join(' | ')} |`, `|${HEADERS.map(() => '---').join('|')}|`];
  for (const l of lines) out.push(`| ${l.map((c) => c.replaceAll('|', '/')).join(' | ')} |`);
  return out.join('\n');
}

function int(n: number): string {
  return n.toLocaleString('en-US');
}

function perChange(r: Row): string {
  if (r.calls === null || r.ideal === null) return '—';
  if (r.ideal === 0) return r.calls === 0 ? '0 calls' : `${int(r.calls)} calls, 0 needed`;
  return (r.calls / r.ideal).toFixed(2);
}

function rate(r: Row): string {
  if (r.perMinute === null || r.perMinute === 0) return '—';
  const value = r.perMinute >= 100_000 ? `${int(Math.round(r.perMinute / 60))}/s` : int(Math.round(r.perMinute));
  if (r.rateSpanMs !== undefined && r.rateSpanMs < MIN_RATE_SPAN_MS) return `${value} over ${(r.rateSpanMs / 1000).toFixed(1)} s (burst)`;
  if (r.limit === null) return value;
  return `${value} (${Math.round((r.perMinute / r.limit) * 100)} % of ${int(r.limit)})`;
}
