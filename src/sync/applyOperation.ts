import type { ChektContact, ChektContactsApi, SiteRef } from '../chekt/types.js';
import { ChektNotFoundError } from '../chekt/errors/index.js';
import { contentHash, echoHash, toCreateBody, type DesiredContact, type NormalizeRules } from '../domain/contact.js';
import { decideAction } from '../domain/decide.js';
import type { OperationJobData } from '../queue/jobs.js';
import { readContact, readSite } from '../source/crm.js';
import type { PrismaClient } from '../source/db.js';
import { readLedgerContactId, writeLedger } from '../source/ledger.js';
import { createOrAdopt, updateContact, type WriteResult } from './writeContact.js';

/**
 * Executes one operation job against CHeKT: re-reads the CRM row, decides (domain/decide.ts), calls CHeKT,
 * and records the result in the ledger. Throws the CHeKT client's typed errors; the queue edge
 * (sync/operationProcessor.ts) decides between retry and give-up.
 *
 * Duplicate safety (./writeContact.ts): a create that is retried (its earlier response may have been lost after
 * CHeKT committed) first looks the contact up by `external_contact_id`; a 409 on create means "it exists": it is
 * adopted. A delete answered 404 is done; an update answered 404 means the contact vanished in CHeKT: it is
 * created again. CHeKT's answer to each write is kept (as a hash) so a CHeKT that stores values in its own
 * form is not written again and again (domain/plan.ts).
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
  const record = (r: ApplyResult, chektContactId: string | null | undefined, written?: { contact: DesiredContact; echo: ChektContact | null }) =>
    writeLedger(deps.db, {
      site,
      externalContactId: job.externalContactId,
      ...(chektContactId !== undefined ? { chektContactId } : {}),
      kind: r.appliedKind === 'recreate' ? 'create' : r.appliedKind,
      outcome: r.outcome,
      error: r.outcome === 'skipped' ? r.detail : null,
      ...(written
        ? { sent: toCreateBody(written.contact), sentHash: contentHash(written.contact), echoHash: written.echo ? echoHash(written.echo) : null }
        : {}),
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
    case 'update': {
      let w: WriteResult;
      let kind: ApplyResult['appliedKind'] = 'update';
      try {
        w = await updateContact(deps.chekt, site, action.chektContactId, action.contact);
      } catch (err) {
        if (!(err instanceof ChektNotFoundError)) throw err;
        w = await createOrAdopt(deps.chekt, deps.rules, site, action.contact, true);
        kind = 'recreate';
      }
      const detail = kind === 'recreate' ? 'contact was missing in CHeKT; created again' : w.note;
      return record({ appliedKind: kind, outcome: 'succeeded', detail }, w.contactId, { contact: action.contact, echo: w.echo });
    }
    case 'create': {
      const w = await createOrAdopt(deps.chekt, deps.rules, site, action.contact, isRetry);
      return record({ appliedKind: w.adopted ? 'adopt' : 'create', outcome: 'succeeded', detail: w.note }, w.contactId, { contact: action.contact, echo: w.echo });
    }
  }
}
