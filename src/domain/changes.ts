import { contentHash, externalIdProblem, prepareContact, type CrmContact, type NormalizeRules } from './contact.js';
import { opKey } from './opKey.js';
import type { PlannedOperation, SkippedContact } from './plan.js';
import { siteKey } from './site.js';

/**
 * The plan of a change tick (docs/ARCHITECTURE.md#layout-and-flow, "Change tick"): CRM rows whose fingerprint differs from the
 * ledger's, and ledger contacts no longer in the CRM, into operations. Pure. No CHeKT list is read: the
 * ledger stands for what CHeKT holds, and drift from it is found by the reconcile (domain/plan.ts).
 */

/** A changed CRM contact with what the ledger knows of it (source/changes.ts `readChangedContacts`). */
export interface ChangedRow {
  readonly contact: CrmContact;
  readonly crmSiteId: string;
  readonly dealerId: string;
  readonly siteId: string;
  readonly fingerprint: string;
  readonly chektContactId: string | null;
  /** {@link contentHash} of what was last sent to CHeKT for this contact, if any. */
  readonly lastSentHash: string | null;
  /** A planned change of this contact is not applied yet (its job may be running on older values). Default false. */
  readonly pending?: boolean;
}

/** A ledger contact in CHeKT that is no longer a live CRM contact of its site. */
export interface RemovedRow {
  readonly crmSiteId: string;
  readonly dealerId: string;
  readonly siteId: string;
  readonly externalContactId: string;
  readonly chektContactId: string;
}

/** A contact settled without a CHeKT call: the ledger takes the new fingerprint. */
export interface SettledContact {
  readonly dealerId: string;
  readonly siteId: string;
  readonly externalContactId: string;
  readonly fingerprint: string;
  /** `skipped` (invalid, with the reason) or `succeeded` (CHeKT already holds these values). */
  readonly outcome: 'skipped' | 'succeeded';
  readonly reason: string | null;
}

/** A {@link SkippedContact} with its site, for run summaries. */
export type SiteNote = SkippedContact & { readonly site: string };

/** Result of {@link planChanges}. */
export interface ChangePlan {
  readonly operations: PlannedOperation[];
  readonly settled: SettledContact[];
  /** Contacts not synced (validation), with the reason. */
  readonly skipped: SiteNote[];
  /** Field-level warnings of contacts that still sync. */
  readonly warnings: SiteNote[];
}

/**
 * Plans a change tick. A changed row becomes:
 * - skipped (with its reason) when its id or its values are invalid (validation policy: domain/contact.ts);
 * - settled with no call when its normalised content equals what was last sent (an edit that normalises
 *   away, such as added white space or a differently written phone);
 * - a create when the ledger holds no CHeKT contact for it, else an update.
 * A removed row becomes a delete.
 */
export function planChanges(changed: readonly ChangedRow[], removed: readonly RemovedRow[], rules: NormalizeRules): ChangePlan {
  const out: ChangePlan = { operations: [], settled: [], skipped: [], warnings: [] };
  for (const row of changed) {
    const site = siteKey(row);
    const ext = row.contact.id;
    const prepared = prepareContact(row.contact, rules);
    const idProblem = externalIdProblem(ext);
    if (idProblem || !prepared.ok) {
      const reason = idProblem ? 'invalid external_contact_id' : (prepared as { reason: string }).reason;
      out.skipped.push({ site, externalContactId: ext, reason });
      // An unusable id has no ledger row; it is reported again on each tick.
      if (!idProblem) out.settled.push({ dealerId: row.dealerId, siteId: row.siteId, externalContactId: ext, fingerprint: row.fingerprint, outcome: 'skipped', reason });
      continue;
    }
    for (const w of prepared.contact.warnings) out.warnings.push({ site, externalContactId: ext, reason: w });
    // Settling is safe only when no job is in flight: a running job may be writing other values.
    if (row.chektContactId && !row.pending && row.lastSentHash === contentHash(prepared.contact)) {
      out.settled.push({ dealerId: row.dealerId, siteId: row.siteId, externalContactId: ext, fingerprint: row.fingerprint, outcome: 'succeeded', reason: null });
      continue;
    }
    out.operations.push({
      kind: row.chektContactId ? 'update' : 'create',
      opKey: opKey(row.dealerId, row.siteId, ext),
      dealerId: row.dealerId,
      siteId: row.siteId,
      crmSiteId: row.crmSiteId,
      externalContactId: ext,
      chektContactId: row.chektContactId,
      reason: row.chektContactId ? 'changed_in_crm' : 'new_in_crm',
      fields: [],
    });
  }
  for (const r of removed) {
    out.operations.push({
      kind: 'delete',
      opKey: opKey(r.dealerId, r.siteId, r.externalContactId),
      dealerId: r.dealerId,
      siteId: r.siteId,
      crmSiteId: r.crmSiteId,
      externalContactId: r.externalContactId,
      chektContactId: r.chektContactId,
      reason: 'removed_from_crm',
      fields: [],
    });
  }
  return out;
}
