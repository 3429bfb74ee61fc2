import type { PlannedOperation } from './plan.js';
import { siteKey, type SiteKey } from './site.js';

/**
 * Deletion holds (docs/SAFETY.md guarantees 3b and 3c). Pure.
 * A wrong deletion leaves a site with nobody to call, so deletes that look like a mistake (a CRM export that
 * came back empty, a broken filter, a site mapping changed by hand) are *held*, not merely reported: they wait
 * for an operator's approval (`npm run sync -- --site <d>/<s> --approve-deletes`). Creates and updates of a
 * held site still run. Deletes of extra CHeKT copies (duplicates) never count and are never held: they do not
 * reduce the people an operator can call.
 */

/** Hold thresholds (config `DELETE_HOLD_SHARE_PERCENT`, `DELETE_HOLD_MIN_DELETES`). */
export interface HoldRules {
  /** Largest share of a site's (or the run's) managed contacts deleted without approval, in percent. Default 10. */
  readonly maxDeleteSharePercent: number;
  /**
   * The share rule applies from this many deletes on (default 2): removing one contact from a small site is
   * ordinary CRM upkeep. Emptying a site is held whatever the count.
   */
  readonly minDeletesForShare: number;
  /** Fewest contacts a site keeps in CHeKT without approval (config `SITE_MIN_CONTACTS`, default 1). */
  readonly minContacts: number;
  /** Deletes of the last this many seconds count with the planned ones (config `DELETE_HOLD_WINDOW_SECONDS`, default 3600). */
  readonly windowSeconds: number;
  /**
   * Fewest SMS-capable contacts a site keeps without approval (config `SITE_MIN_SMS_CONTACTS`, default 1; 0 turns
   * the rule off; domain/reach.ts, docs/REACHABILITY.md). Absent: off.
   */
  readonly minSmsContacts?: number;
}

/** A site's numbers for the hold decision. */
export interface SiteDeleteStats {
  /** "dealerId/siteId". */
  readonly site: SiteKey;
  /** Planned deletes of contacts removed from the CRM (duplicates excluded). */
  readonly deletes: number;
  /** CHeKT contacts this service manages on the site (ledger), at least `deletes`. */
  readonly managed: number;
  /** Live CRM contacts of the site. */
  readonly live: number;
  /** Planned creates on the site (they run before its deletes: sync/deleteGate.ts). */
  readonly creates: number;
  /** Contacts deleted from the site within {@link HoldRules.windowSeconds}, outside approved runs (default 0). */
  readonly recentDeletes?: number;
  /**
   * SMS-capable contacts the site will have once the plan's creates and updates are applied and its deletes
   * made (the CRM's live contacts, domain/reach.ts). Absent: the SMS rule does not apply.
   */
  readonly smsRemaining?: number;
  /** SMS-capable contacts among the planned deletes (by the phone last sent to CHeKT). Default 0. */
  readonly smsDeleted?: number;
}

/** A held site, as stored in `sync_holds` and shown to operators. */
export interface Hold {
  readonly site: SiteKey;
  readonly reason: string;
  readonly deletes: number;
  readonly managed: number;
}

const pct = (n: number, of: number) => (of === 0 ? 100 : Math.round((n / of) * 1000) / 10);

/**
 * Which sites' deletes are held. Rules, in order, for sites not in `approved`:
 * 1. the CRM lists no live contact for a site while deletes are planned on it;
 * 2. the site would keep fewer than `minContacts` contacts in CHeKT (managed − deletes + creates);
 * 3. the deletes would take the site from at least `minSmsContacts` SMS-capable contacts (`smsRemaining` +
 *    `smsDeleted`: creates and updates applied, the deleted contacts still there) to fewer (`smsRemaining`).
 *    A site already below the minimum before its deletes is not held by this rule: its ordinary upkeep goes on;
 * 4. a site's deletes reach `minDeletesForShare` and exceed `maxDeleteSharePercent` of its managed contacts,
 *    counting the deletes of the last `windowSeconds` too (against the contacts the site had before them);
 * 5. the run's deletes (all planned sites together) reach `minDeletesForShare` and exceed that share of
 *    `totalManaged`, the managed contacts of every planned site: every site with deletes is held.
 */
export function findHolds(stats: readonly SiteDeleteStats[], totalManaged: number, rules: HoldRules, approved: (site: SiteKey) => boolean): Hold[] {
  const holds = new Map<SiteKey, Hold>();
  const share = rules.maxDeleteSharePercent;
  const approval = (site: SiteKey) => `; approve with: npm run sync -- --site ${site} --approve-deletes`;
  const hold = (s: SiteDeleteStats, managed: number, why: string) => holds.set(s.site, { site: s.site, deletes: s.deletes, managed, reason: `${why}${approval(s.site)}` });
  const pending = stats.filter((s) => s.deletes > 0 && !approved(s.site));
  for (const s of pending) {
    const managed = Math.max(s.managed, s.deletes);
    if (s.live === 0) {
      hold(s, managed, `the CRM lists no live contact for this site while ${s.deletes} managed contact(s) would be deleted from CHeKT`);
    } else if (managed - s.deletes + s.creates < rules.minContacts) {
      hold(s, managed, `deleting ${s.deletes} contact(s) would leave ${managed - s.deletes + s.creates} in CHeKT, below SITE_MIN_CONTACTS=${rules.minContacts}`);
    } else if (losesSmsReach(s, rules.minSmsContacts ?? 0)) {
      hold(
        s,
        managed,
        `deleting ${s.deletes} contact(s) (${s.smsDeleted} SMS-capable) would leave ${s.smsRemaining} SMS-capable contact(s), below SITE_MIN_SMS_CONTACTS=${rules.minSmsContacts}: CHeKT's verification text would reach ${s.smsRemaining === 0 ? 'nobody' : 'fewer people'} on this site`,
      );
    } else if (s.deletes >= rules.minDeletesForShare && pct(s.deletes, managed) > share) {
      hold(s, managed, `${s.deletes} of ${managed} managed contacts (${pct(s.deletes, managed)} %) would be deleted, above DELETE_HOLD_SHARE_PERCENT=${share}`);
    } else if (s.recentDeletes) {
      const d = s.deletes + s.recentDeletes;
      const m = managed + s.recentDeletes;
      if (d >= rules.minDeletesForShare && pct(d, m) > share) {
        hold(
          s,
          managed,
          `${s.deletes} more delete(s) would make ${d} of ${m} contacts (${pct(d, m)} %) deleted within DELETE_HOLD_WINDOW_SECONDS=${rules.windowSeconds}, above DELETE_HOLD_SHARE_PERCENT=${share}`,
        );
      }
    }
  }
  const deletes = pending.reduce((n, s) => n + s.deletes, 0);
  const managed = Math.max(totalManaged, deletes);
  if (deletes >= rules.minDeletesForShare && pct(deletes, managed) > share) {
    for (const s of pending) {
      if (!holds.has(s.site))
        hold(
          s,
          Math.max(s.managed, s.deletes),
          `this run would delete ${deletes} of ${managed} managed contacts (${pct(deletes, managed)} %) across ${pending.length} site(s), above DELETE_HOLD_SHARE_PERCENT=${share}`,
        );
    }
  }
  return [...holds.values()];
}

/** Rule 3 of {@link findHolds}: the deletes take the site from at least `min` SMS-capable contacts to fewer. */
function losesSmsReach(s: SiteDeleteStats, min: number): boolean {
  return s.smsRemaining !== undefined && takesBelowSmsMinimum(s.smsRemaining, s.smsDeleted ?? 0, min);
}

/**
 * The SMS rule on plain numbers (rule 3 of {@link findHolds}, and the worker's delete gate, sync/deleteGate.ts):
 * deleting `smsDeleted` SMS-capable contacts takes the site from at least `min` (`remaining + deleted`) to fewer
 * (`remaining`). False when `min` is 0 (off), nothing SMS-capable is deleted, or the site was below `min` already.
 */
export function takesBelowSmsMinimum(smsRemaining: number, smsDeleted: number, min: number): boolean {
  return min > 0 && smsDeleted > 0 && smsRemaining < min && smsRemaining + smsDeleted >= min;
}

/** True for a delete that a hold applies to (a contact removed from the CRM, not an extra copy). */
export function isHoldableDelete(op: PlannedOperation): boolean {
  return op.kind === 'delete' && op.reason !== 'duplicate_in_chekt';
}

/** Holdable deletes and creates per site ("dealerId/siteId"), with the CRM `sites.id`, of sites with deletes. */
export function countSiteOperations(ops: readonly PlannedOperation[]): Map<SiteKey, { crmSiteId: string; deletes: number; creates: number }> {
  const out = new Map<SiteKey, { crmSiteId: string; deletes: number; creates: number }>();
  for (const o of ops) {
    const key = siteKey(o);
    const entry = out.get(key) ?? { crmSiteId: o.crmSiteId, deletes: 0, creates: 0 };
    if (isHoldableDelete(o)) entry.deletes += 1;
    if (o.kind === 'create') entry.creates += 1;
    out.set(key, entry);
  }
  for (const [k, v] of out) if (v.deletes === 0) out.delete(k);
  return out;
}

/**
 * Holds that hold (docs/SAFETY.md guarantee 3b: held "until an operator" approves), on top of {@link findHolds}:
 * - **Sticky.** A site already on hold (`stored`) stays held while it has deletes, even when this plan's rules
 *   alone would not hold it: a narrower plan (one site, one notification), a window that moved on, or a run-wide
 *   share computed over fewer sites never releases it. It is released by approval, or when the CRM lists the
 *   contacts again (no holdable delete left).
 * - **Approval covers what was shown.** `--approve-deletes` lifts a site's hold only when a hold is stored and
 *   the plan deletes no more contacts than that hold showed; more deletes stay held with their own reason.
 * Returns the holds and the sites whose deletes are approved (their jobs may go below `SITE_MIN_CONTACTS`).
 */
export function resolveHolds(input: {
  readonly stats: readonly SiteDeleteStats[];
  readonly totalManaged: number;
  readonly rules: HoldRules;
  readonly stored: ReadonlyMap<SiteKey, Hold>;
  /** Sites named with `--approve-deletes` / `approveDeletes`. */
  readonly approvalRequested: ReadonlySet<SiteKey>;
}): { holds: Hold[]; approved: Set<SiteKey> } {
  const { stats, stored } = input;
  const approved = new Set(stats.filter((s) => input.approvalRequested.has(s.site) && stored.has(s.site) && s.deletes <= stored.get(s.site)!.deletes).map((s) => s.site));
  const byRule = new Map(findHolds(stats, input.totalManaged, input.rules, (s) => approved.has(s)).map((h) => [h.site, h]));
  const holds: Hold[] = [];
  for (const s of stats) {
    if (s.deletes === 0 || approved.has(s.site)) continue;
    const before = stored.get(s.site);
    const rule = byRule.get(s.site);
    if (!before && !rule) continue;
    const managed = Math.max(s.managed, s.deletes);
    const reason =
      before && input.approvalRequested.has(s.site)
        ? `${s.deletes} deletes planned, more than the ${before.deletes} shown when the site was held; check the CRM and approve again: npm run sync -- --site ${s.site} --approve-deletes`
        : (rule?.reason ?? before!.reason);
    holds.push({ site: s.site, deletes: s.deletes, managed, reason });
  }
  return { holds, approved };
}
