import type { PrismaClient } from '../source/db.js';
import { readDeleteGate } from '../source/operationContext.js';

/**
 * The delete gate (issue "Never lose, duplicate or wrongly delete an emergency contact", point 3), checked by
 * the worker right before a delete of a contact removed from the CRM:
 * - add before remove: while a create on the same CHeKT site, or of the same contact on another site (a
 *   contact that moved), is still queued, the delete waits (its job is delayed, not failed), for up to
 *   {@link MAX_WAIT_MS};
 * - minimum: a delete that would leave the site with fewer than `SITE_MIN_CONTACTS` managed contacts in CHeKT
 *   is held (stored in `sync_holds`) unless an operator approved the site's deletes.
 */

/** Longest a delete waits for creates before the minimum rule decides alone: 10 minutes. */
export const MAX_WAIT_MS = 10 * 60_000;

/** The gate's answer. */
export type GateDecision =
  | { readonly type: 'go' }
  | { readonly type: 'wait'; readonly reason: string }
  | { readonly type: 'hold'; readonly reason: string; readonly remaining: number };

/** Decides whether a delete may run now; see the module comment. */
export async function gateDelete(
  db: PrismaClient,
  op: { readonly opKey: string; readonly externalContactId: string; readonly dealerId: string; readonly siteId: string },
  options: { readonly minContacts: number; readonly approved: boolean; readonly waitedMs: number },
): Promise<GateDecision> {
  const state = await readDeleteGate(db, op);
  if (state.createsPending && options.waitedMs < MAX_WAIT_MS) {
    return { type: 'wait', reason: 'waiting for creates on this site (add before remove)' };
  }
  if (!options.approved && state.remaining < options.minContacts) {
    const site = `${op.dealerId}/${op.siteId}`;
    return {
      type: 'hold',
      remaining: state.remaining,
      reason: `deleting would leave ${state.remaining} contact(s) in CHeKT, below SITE_MIN_CONTACTS=${options.minContacts}; approve with: npm run sync -- --site ${site} --approve-deletes`,
    };
  }
  return { type: 'go' };
}
