import { siteKey } from './site.js';

/**
 * Whether the service needs an operator, judged from the status overview (source/readModel/overview.ts) or one
 * site's status: the rule `npm run status` exits 1 on and `GET /api/status` reports as `health`
 * (docs/CONSOLE.md "Exit codes"). Pure.
 */

/** What the verdict is drawn from: the sites on hold, failed contacts, and the oldest change not yet in CHeKT. */
export interface HealthFacts {
  readonly holds: ReadonlyArray<{ readonly site: string }>;
  /** Contacts whose last operation failed (`sync_ledger.last_outcome = 'failed'`), all of them counted. */
  readonly failures: { readonly total: number };
  /** `ageSeconds` in whole seconds, on the database clock; null when every planned change is applied. */
  readonly oldestUnsyncedChange: { readonly site: string; readonly externalContactId: string; readonly ageSeconds: number } | null;
}

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
export function assessHealth(o: HealthFacts, behindSeconds: number): Health {
  const problems: string[] = [];
  if (o.holds.length > 0) problems.push(`${o.holds.length} site(s) on hold: ${o.holds.map((h) => h.site).join(', ')}`);
  if (o.failures.total > 0) problems.push(`${o.failures.total} contact(s) failed for good`);
  const u = o.oldestUnsyncedChange;
  if (u && u.ageSeconds > behindSeconds) problems.push(`the oldest unsynced change (${u.site} ${u.externalContactId}) is ${u.ageSeconds} s old, over ALERT_BEHIND_SECONDS=${behindSeconds}`);
  return { healthy: problems.length === 0, behindSeconds, problems };
}

/** What {@link siteHealthFacts} reads of one site's status (source/readModel/siteState.ts `SiteStatus`). */
export interface SiteHealthInput {
  readonly dealerId: string;
  readonly siteId: string;
  readonly hold: { readonly site: string } | null;
  /** `pendingSince` ISO 8601, or null. */
  readonly contacts: ReadonlyArray<{ readonly externalContactId: string; readonly state: string; readonly pendingSince: string | null }>;
  readonly oldestUnsyncedChangeAgeSeconds: number | null;
}

/**
 * The health facts of one site (`npm run status -- --site`): its hold, its contacts in state `failed`, and its
 * contact pending longest, aged by `oldestUnsyncedChangeAgeSeconds`.
 */
export function siteHealthFacts(s: SiteHealthInput): HealthFacts {
  const oldest = s.contacts.filter((c) => c.pendingSince !== null).sort((a, b) => a.pendingSince!.localeCompare(b.pendingSince!))[0];
  const age = s.oldestUnsyncedChangeAgeSeconds;
  return {
    holds: s.hold ? [s.hold] : [],
    failures: { total: s.contacts.filter((c) => c.state === 'failed').length },
    oldestUnsyncedChange: age === null || !oldest ? null : { site: siteKey(s), externalContactId: oldest.externalContactId, ageSeconds: age },
  };
}
