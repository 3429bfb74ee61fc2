import type { ChektContact, ChektContactsApi, SiteRef } from '../chekt/types.js';
import { ChektConflictError, ChektNotFoundError } from '../chekt/errors/index.js';
import { changedFields, contentHash, remoteKeys, toCreateBody, toUpdateBody, type DesiredContact, type NormalizeRules } from '../domain/contact.js';
import { decideAction } from '../domain/decide.js';
import type { OperationJobData } from '../queue/jobs.js';
import { readContact, readSite } from '../source/crm.js';
import type { PrismaClient } from '../source/db.js';
import { readLedgerContactId, writeLedger } from '../source/ledger.js';

/**
 * Executes one operation job against CHeKT: re-reads the CRM row, decides (domain/decide.ts), calls CHeKT,
 * and records the result in the ledger. Throws the CHeKT client's typed errors; the queue edge
 * (sync/operationProcessor.ts) decides between retry and give-up.
 *
 * Duplicate safety: a create that is retried (its earlier response may have been lost after CHeKT committed)
 * first looks the contact up by `external_contact_id`; a 409 on create means "it exists": it is adopted.
 * A delete answered 404 is done; an update answered 404 means the contact vanished in CHeKT: it is created again.
 */

/** What {@link applyOperation} needs. */
export interface ApplyDeps {
  readonly db: PrismaClient;
  readonly chekt: ChektContactsApi;
  readonly rules: NormalizeRules;
  readonly now: () => Date;
}

/** What was done: `appliedKind` may differ from the planned kind when the CRM changed since planning. */
export interface ApplyResult {
  readonly appliedKind: 'create' | 'update' | 'delete' | 'adopt' | 'recreate' | 'skip';
  readonly outcome: 'succeeded' | 'skipped';
  readonly detail: string | null;
}

/** Runs one operation. `isRetry` is true when an earlier try of this job may have reached CHeKT. */
export async function applyOperation(deps: ApplyDeps, job: OperationJobData, isRetry: boolean): Promise<ApplyResult> {
  const site: SiteRef = { dealerId: job.dealerId, siteId: job.siteId };
  const [crm, crmSite, ledgerContactId] = await Promise.all([
    readContact(deps.db, job.externalContactId),
    readSite(deps.db, job.crmSiteId),
    readLedgerContactId(deps.db, site, job.externalContactId),
  ]);
  const action = decideAction({
    reason: job.reason,
    crmSiteId: job.crmSiteId,
    plannedChektContactId: job.chektContactId,
    crm,
    site: crmSite,
    ledgerChektContactId: ledgerContactId,
    rules: deps.rules,
  });
  const record = (r: ApplyResult, chektContactId: string | null | undefined, sent?: DesiredContact) =>
    writeLedger(deps.db, {
      site,
      externalContactId: job.externalContactId,
      ...(chektContactId !== undefined ? { chektContactId } : {}),
      kind: r.appliedKind === 'recreate' ? 'create' : r.appliedKind,
      outcome: r.outcome,
      error: r.outcome === 'skipped' ? r.detail : null,
      ...(sent ? { sent: toCreateBody(sent), sentHash: contentHash(sent) } : {}),
      runId: job.runId,
      now: deps.now(),
    }).then(() => r);

  switch (action.type) {
    case 'skip':
      return record({ appliedKind: 'skip', outcome: 'skipped', detail: action.reason }, undefined);
    case 'delete':
      try {
        await deps.chekt.deleteContact(site, action.chektContactId);
      } catch (err) {
        if (!(err instanceof ChektNotFoundError)) throw err;
      }
      // Only the ledger's own copy is forgotten; deleting an extra duplicate keeps the kept copy's id.
      return record(
        { appliedKind: 'delete', outcome: 'succeeded', detail: null },
        job.reason === 'duplicate_in_chekt' && ledgerContactId !== action.chektContactId ? undefined : null,
      );
    case 'update':
      try {
        await deps.chekt.updateContact(site, action.chektContactId, toUpdateBody(action.contact));
        return record({ appliedKind: 'update', outcome: 'succeeded', detail: null }, action.chektContactId, action.contact);
      } catch (err) {
        if (!(err instanceof ChektNotFoundError)) throw err;
        const id = await createOrAdopt(deps, site, action.contact, true);
        return record({ appliedKind: 'recreate', outcome: 'succeeded', detail: 'contact was missing in CHeKT; created again' }, id.contactId, action.contact);
      }
    case 'create': {
      const id = await createOrAdopt(deps, site, action.contact, isRetry);
      return record({ appliedKind: id.adopted ? 'adopt' : 'create', outcome: 'succeeded', detail: null }, id.contactId, action.contact);
    }
  }
}

/**
 * Creates the contact, or adopts the CHeKT contact that already has its `external_contact_id` (found by a
 * list before a retried create, or after a 409) and brings its fields up to date.
 */
async function createOrAdopt(
  { chekt, rules }: ApplyDeps,
  site: SiteRef,
  contact: DesiredContact,
  lookFirst: boolean,
): Promise<{ contactId: string; adopted: boolean }> {
  if (lookFirst) {
    const existing = await findByExternalId(chekt, site, contact.externalContactId);
    if (existing) return adopt(chekt, rules, site, contact, existing);
  }
  try {
    const created = await chekt.createContact(site, toCreateBody(contact));
    return { contactId: created.contactId, adopted: false };
  } catch (err) {
    if (!(err instanceof ChektConflictError)) throw err;
    const existing = await findByExternalId(chekt, site, contact.externalContactId);
    if (!existing) throw err;
    return adopt(chekt, rules, site, contact, existing);
  }
}

async function adopt(
  chekt: ChektContactsApi,
  rules: NormalizeRules,
  site: SiteRef, contact: DesiredContact, existing: ChektContact): Promise<{ contactId: string; adopted: boolean }> {
  if (changedFields(contact, remoteKeys(existing, rules)).length > 0) {
    await chekt.updateContact(site, existing.contactId, toUpdateBody(contact));
  }
  return { contactId: existing.contactId, adopted: true };
}

async function findByExternalId(chekt: ChektContactsApi, site: SiteRef, externalContactId: string): Promise<ChektContact | undefined> {
  const list = await chekt.listContacts(site);
  return list
    .filter((c) => c.externalContactId === externalContactId)
    .sort((a, b) => Number(a.contactId) - Number(b.contactId))[0];
}
