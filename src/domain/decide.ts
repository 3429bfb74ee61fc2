import { prepareContact, type CrmContact, type DesiredContact, type NormalizeRules } from './contact.js';
import type { OperationReason } from './plan.js';

/**
 * What a worker does when an operation job runs. Pure. The job carries ids only; the worker re-reads the
 * CRM row and decides from the *current* state, so a contact edited or deleted after planning gets the
 * latest values (docs/SAFETY.md guarantee 2, "Latest CRM state wins").
 */

/** The action to take against CHeKT. */
export type WorkerAction =
  | { readonly type: 'create'; readonly contact: DesiredContact }
  | { readonly type: 'update'; readonly contact: DesiredContact; readonly chektContactId: string }
  | { readonly type: 'delete'; readonly chektContactId: string }
  | { readonly type: 'skip'; readonly reason: string };

/** Inputs read by the worker just before acting. */
export interface DecideInput {
  readonly reason: OperationReason;
  /** CRM `sites.id` the job was planned for. */
  readonly crmSiteId: string;
  /** CHeKT `contact_id` known at planning (from CHeKT's live list), if any. */
  readonly plannedChektContactId: string | null;
  /** The CRM contact row now, or null when it no longer exists (hard delete). */
  readonly crm: CrmContact | null;
  /** The CRM site now, or null when it no longer exists. */
  readonly site: { readonly id: string; readonly syncEnabled: boolean } | null;
  /** CHeKT `contact_id` the ledger holds for this contact on this site. */
  readonly ledgerChektContactId: string | null;
  /**
   * A delete of this contact was planned (the job's own kind, or a later run's queued delete), so the deletion
   * holds were applied to it. Without that, a contact removed from the CRM after an update or create was
   * planned is skipped, and the next plan deletes it under the holds. Default false.
   */
  readonly deletePlanned?: boolean;
  /** Why the CRM's rows cannot be used now (sync/ports/operations.ts `OperationContext.problem`): skip. Default none. */
  readonly sourceProblem?: string | null;
  readonly rules: NormalizeRules;
}

/** Decides the action; see {@link WorkerAction}. */
export function decideAction(input: DecideInput): WorkerAction {
  // Site checks first: a site removed or disabled after planning is left exactly as it is, duplicates included.
  if (input.sourceProblem) return { type: 'skip', reason: `${input.sourceProblem}; left as it is in CHeKT` };
  if (!input.site) return { type: 'skip', reason: 'site no longer in the CRM; left as it is in CHeKT' };
  if (!input.site.syncEnabled) return { type: 'skip', reason: 'site sync is disabled; left as it is in CHeKT' };
  if (input.reason === 'duplicate_in_chekt') {
    if (!input.plannedChektContactId) return { type: 'skip', reason: 'duplicate already gone' };
    // Since planning, the ledger may have come to point at this very copy (adopted by a create's 409):
    // it is then the one to keep.
    if (input.plannedChektContactId === input.ledgerChektContactId) return { type: 'skip', reason: 'this copy is now the one the ledger keeps' };
    return { type: 'delete', chektContactId: input.plannedChektContactId };
  }
  // Drift: the contact the ledger knows vanished from CHeKT's list at planning. While the ledger still holds
  // that id, it is stale: create anew. A different id means a create since planning: update that one.
  const vanished = input.reason === 'drift_deleted' && input.plannedChektContactId === input.ledgerChektContactId;
  const chektContactId = vanished ? null : input.reason === 'drift_deleted' ? input.ledgerChektContactId : (input.plannedChektContactId ?? input.ledgerChektContactId);
  const crm = input.crm;
  const wanted = crm !== null && crm.deletedAt === null && crm.crmSiteId === input.crmSiteId;
  if (!wanted) {
    if (!chektContactId) return { type: 'skip', reason: 'not in CHeKT; nothing to delete' };
    if (input.reason !== 'removed_from_crm' && !input.deletePlanned) {
      return { type: 'skip', reason: 'removed from the CRM after planning; the next plan deletes it, under the deletion holds' };
    }
    return { type: 'delete', chektContactId };
  }
  const prepared = prepareContact(crm, input.rules);
  if (!prepared.ok) return { type: 'skip', reason: prepared.reason };
  return chektContactId ? { type: 'update', contact: prepared.contact, chektContactId } : { type: 'create', contact: prepared.contact };
}
