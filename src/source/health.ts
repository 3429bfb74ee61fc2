import type { StatusOverview } from './overview.js';

/**
 * Whether the service needs an operator, judged from the status overview: the rule `npm run status` exits 1 on
 * and `GET /api/status` reports as `health` (docs/CONSOLE.md "Exit codes"). Pure.
 */

/** The verdict: `healthy` is false when any problem is listed; each problem is one sentence for operators. */
export interface Health {
  readonly healthy: boolean;
  /** `ALERT_BEHIND_SECONDS` the freshness rule used, in seconds. */
  readonly behindSeconds: number;
  readonly problems: string[];
}

/**
 * Unhealthy when (1) any site is on hold, (2) any contact failed for good (`sync_ledger.last_outcome = 'failed'`),
 * or (3) the oldest change not yet in CHeKT is older than `behindSeconds` (`ALERT_BEHIND_SECONDS`, default 900).
 */
export function assessHealth(o: Pick<StatusOverview, 'holds' | 'failures' | 'oldestUnsyncedChange'>, behindSeconds: number): Health {
  const problems: string[] = [];
  if (o.holds.length > 0) problems.push(`${o.holds.length} site(s) on hold: ${o.holds.map((h) => h.site).join(', ')}`);
  if (o.failures.total > 0) problems.push(`${o.failures.total} contact(s) failed for good`);
  const u = o.oldestUnsyncedChange;
  if (u && u.ageSeconds > behindSeconds) problems.push(`the oldest unsynced change (${u.site} ${u.externalContactId}) is ${u.ageSeconds} s old, over ALERT_BEHIND_SECONDS=${behindSeconds}`);
  return { healthy: problems.length === 0, behindSeconds, problems };
}
