import { takesBelowSmsMinimum } from '../domain/safety.js';
import { siteKey } from '../domain/site.js';
import type { LockedSite, OperationInHand } from './ports/operations.js';

/**
 * The delete gate (docs/SAFETY.md guarantees 3b and 3c), checked by
 * the worker right before a delete of a contact removed from the CRM:
 * - add before remove: while a create on the same CHeKT site, or of the same contact on another site (a
 *   contact that moved), is still queued, the delete waits (its job is delayed, not failed), for up to
 *   {@link MAX_WAIT_MS};
 * - a delete is held (stored in `sync_holds`) unless an operator approved the site's deletes when: the site is
 *   already on hold; a create on the site failed for good in the same run (its replacement is missing); or it
 *   would leave the site with fewer than `SITE_MIN_CONTACTS` managed contacts in CHeKT; or it would take the site
 *   from at least `SITE_MIN_SMS_CONTACTS` SMS-capable contacts to fewer, counting the contacts this service holds
 *   in CHeKT by the phones last sent (docs/REACHABILITY.md; the planner checks the same rule on the CRM's side).
 * The caller runs the gate and the delete under the site's lock (ports/operations.ts `OperationStore.withSiteLock`),
 * so two deletes of one site never both see the other's contact as remaining.
 */

/** Longest a delete waits for creates before the minimum rule decides alone: 10 minutes. */
export const MAX_WAIT_MS = 10 * 60_000;

/** The gate's answer. */
export type GateDecision = { readonly type: 'go' } | { readonly type: 'wait'; readonly reason: string } | { readonly type: 'hold'; readonly reason: string; readonly remaining: number };

/** Decides whether a delete may run now; see the module comment. */
export async function gateDelete(
  locked: Pick<LockedSite, 'readDeleteGate' | 'readSentSms'>,
  op: Pick<OperationInHand, 'opKey' | 'runId' | 'externalContactId' | 'dealerId' | 'siteId'>,
  options: {
    /** Config `SITE_MIN_CONTACTS`. */
    readonly minContacts: number;
    /** An operator approved the site's deletes (the job's `approveDeletes`). */
    readonly approved: boolean;
    /** How long the delete has waited since it was enqueued, in ms. */
    readonly waitedMs: number;
    /** Config `SITE_MIN_SMS_CONTACTS`; absent or 0: not checked here. */
    readonly minSmsContacts?: number;
  },
): Promise<GateDecision> {
  const state = await locked.readDeleteGate(op);
  if (state.createsPending && options.waitedMs < MAX_WAIT_MS) {
    return { type: 'wait', reason: 'waiting for creates on this site (add before remove)' };
  }
  const site = siteKey(op);
  const approve = `; approve with: npm run sync -- --site ${site} --approve-deletes`;
  if (options.approved) return { type: 'go' };
  if (state.held) return { type: 'hold', remaining: state.remaining, reason: `the site is on hold; its deletes wait for approval${approve}` };
  if (state.createFailed) {
    return { type: 'hold', remaining: state.remaining, reason: `a create on this site failed in the same run: add before remove, so this delete waits${approve}` };
  }
  if (state.remaining < options.minContacts) {
    return {
      type: 'hold',
      remaining: state.remaining,
      reason: `deleting would leave ${state.remaining} contact(s) in CHeKT, below SITE_MIN_CONTACTS=${options.minContacts}${approve}`,
    };
  }
  const minSms = options.minSmsContacts ?? 0;
  if (minSms > 0) {
    const sms = await locked.readSentSms(op.externalContactId);
    if (takesBelowSmsMinimum(sms.others, sms.deleted ? 1 : 0, minSms)) {
      return {
        type: 'hold',
        remaining: state.remaining,
        reason: `deleting would leave ${sms.others} SMS-capable contact(s) in CHeKT, below SITE_MIN_SMS_CONTACTS=${minSms}${approve}`,
      };
    }
  }
  return { type: 'go' };
}
