import type { ChektContactsApi } from '../chekt/types.js';
import type { ChektContact } from '../domain/chektContact.js';
import { siteKey, type SiteRef } from '../domain/site.js';
import { ChektNotFoundError } from '../chekt/errors/index.js';
import { contentHash, echoHash, toCreateBody, type DesiredContact, type NormalizeRules } from '../domain/contact.js';
import { decideAction } from '../domain/decide.js';
import { echoReachProblem } from '../domain/reach.js';
import { gateDelete } from './deleteGate.js';
import type { LedgerWrite, OperationContext, OperationInHand, OperationStore } from './ports/operations.js';
import { createOrAdopt, updateContact, type WriteResult } from './writeContact.js';

/**
 * Executes one operation against CHeKT: decides from the CRM row read just before (`OperationStore.readContext`,
 * domain/decide.ts), calls CHeKT, and returns the ledger write that records the result. Throws the CHeKT
 * client's typed errors; the lifecycle (./runOperation.ts) decides between retry and give-up.
 *
 * Duplicate safety (./writeContact.ts): a create that is retried (its earlier response may have been lost after
 * CHeKT committed) first looks the contact up by `external_contact_id`; a 409 on create means "it exists": it is
 * adopted. A delete answered 404 is done; an update answered 404 means the contact vanished in CHeKT: it is
 * created again (counted as repaired drift). CHeKT's answer to each write is kept (as a hash) so a CHeKT that
 * stores values in its own form is not written again and again (domain/plan.ts). A delete first passes the
 * delete gate (./deleteGate.ts): add before remove, and never below the site's minimum.
 */

/** What {@link applyOperation} needs. */
export interface ApplyDeps {
  /** Only its site lock is used here, for deletes. */
  readonly store: Pick<OperationStore, 'withSiteLock'>;
  /** The CHeKT API of this attempt (its calls are fenced and logged, ./runOperation.ts). */
  readonly chekt: ChektContactsApi;
  readonly rules: NormalizeRules;
  readonly now: () => Date;
  /** Config `SITE_MIN_CONTACTS` (default 1). */
  readonly siteMinContacts: number;
  /** Config `SITE_MIN_SMS_CONTACTS` (default 1 in the config; absent here: not checked by the delete gate). */
  readonly siteMinSmsContacts?: number;
}

/** What was done: `appliedKind` may differ from the planned kind when the CRM changed since planning. */
export interface ApplyResult {
  readonly appliedKind: 'create' | 'update' | 'delete' | 'adopt' | 'recreate' | 'skip';
  /** `wait`: a delete waits for creates (the job is delayed); `held`: a delete would break the site minimum. */
  readonly outcome: 'succeeded' | 'skipped' | 'held' | 'wait';
  readonly detail: string | null;
}

/**
 * What {@link applyOperation} did, and the ledger write that records it. The caller writes the ledger in the
 * same statement that settles the operation (`OperationStore.settle`): one round trip, one commit.
 * `ledger` holds what was sent (names, phones): it must never go into the job's return value.
 */
export interface Applied {
  readonly result: ApplyResult;
  readonly ledger: LedgerWrite | null;
}

/** Runs one operation. `isRetry` is true when an earlier try of this job may have reached CHeKT. */
export async function applyOperation(deps: ApplyDeps, job: OperationInHand, ctx: OperationContext, isRetry: boolean): Promise<Applied> {
  const site: SiteRef = { dealerId: job.dealerId, siteId: job.siteId };
  const action = decideAction({
    reason: job.reason,
    crmSiteId: job.crmSiteId,
    plannedChektContactId: job.chektContactId,
    crm: ctx.crm,
    site: ctx.site,
    ledgerChektContactId: ctx.ledgerChektContactId,
    deletePlanned: job.kind === 'delete' || ctx.deletePlanned,
    sourceProblem: ctx.problem ?? null,
    rules: deps.rules,
  });
  // The CRM row this operation made CHeKT equal to (or found invalid): the next change tick skips it.
  const wanted = !ctx.problem && !!ctx.crm && ctx.crm.deletedAt === null && ctx.crm.crmSiteId === job.crmSiteId && !!ctx.site?.syncEnabled;
  const record = (r: ApplyResult, chektContactId: string | null | undefined, written?: { contact: DesiredContact; echo: ChektContact | null }): Applied => ({
    result: r,
    ledger: {
      site,
      externalContactId: job.externalContactId,
      ...(chektContactId !== undefined ? { chektContactId } : {}),
      kind: r.appliedKind === 'recreate' ? 'create' : r.appliedKind,
      outcome: r.outcome === 'held' ? 'held' : r.outcome === 'wait' ? 'skipped' : r.outcome,
      error: r.outcome === 'succeeded' ? null : r.detail,
      ...(written
        ? {
            sent: toCreateBody(written.contact),
            sentHash: contentHash(written.contact),
            echoHash: written.echo ? echoHash(written.echo) : null,
            // The echo check (docs/REACHABILITY.md): did CHeKT keep the phone it was sent?
            reachProblem: written.echo ? echoReachProblem(written.contact, written.echo, deps.rules) : null,
          }
        : {}),
      ...(r.outcome === 'held' ? {} : { settled: true }),
      ...(r.outcome !== 'held' && wanted ? { crmHash: ctx.fingerprint } : {}),
      runId: job.runId,
      now: deps.now(),
    },
  });

  switch (action.type) {
    case 'skip':
      return record({ appliedKind: 'skip', outcome: 'skipped', detail: action.reason }, undefined);
    case 'delete': {
      const remove = async (): Promise<Applied> => {
        try {
          await deps.chekt.deleteContact(site, action.chektContactId);
        } catch (err) {
          if (!(err instanceof ChektNotFoundError)) throw err;
        }
        return { result: { appliedKind: 'delete', outcome: 'succeeded', detail: null }, ledger: deleted };
      };
      // Only the ledger's own copy is forgotten; deleting an extra duplicate keeps the kept copy's id.
      const own = !(job.reason === 'duplicate_in_chekt' && ctx.ledgerChektContactId !== action.chektContactId);
      const deleted: LedgerWrite = {
        site,
        externalContactId: job.externalContactId,
        ...(own ? { chektContactId: null, crmHash: null, reachProblem: null } : {}),
        kind: 'delete',
        outcome: 'succeeded',
        settled: own,
        runId: job.runId,
        now: deps.now(),
      };
      if (job.reason === 'duplicate_in_chekt') return remove();
      // Gate, delete and ledger write under the site's lock: the next delete of the site sees this one.
      return deps.store.withSiteLock(site, async (locked) => {
        const gate = await gateDelete(locked, job, {
          minContacts: deps.siteMinContacts,
          approved: !!job.approveDeletes,
          waitedMs: deps.now().getTime() - job.enqueuedAt,
          ...(deps.siteMinSmsContacts ? { minSmsContacts: deps.siteMinSmsContacts } : {}),
        });
        if (gate.type === 'wait') return { result: { appliedKind: 'skip', outcome: 'wait', detail: gate.reason }, ledger: null };
        if (gate.type === 'hold') {
          await locked.addHold({ site: siteKey(site), reason: gate.reason, deletes: 1, managed: gate.remaining + 1 }, job.runId, deps.now());
          return record({ appliedKind: 'skip', outcome: 'held', detail: gate.reason }, undefined);
        }
        const done = await remove();
        await locked.writeLedger(deleted);
        return done;
      });
    }
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
      const detail = kind === 'recreate' ? 'contact was missing in CHeKT; created again (drift repaired)' : w.note;
      return record({ appliedKind: kind, outcome: 'succeeded', detail }, w.contactId, { contact: action.contact, echo: w.echo });
    }
    case 'create': {
      const w = await createOrAdopt(deps.chekt, deps.rules, site, action.contact, isRetry);
      return record({ appliedKind: w.adopted ? 'adopt' : 'create', outcome: 'succeeded', detail: w.note }, w.contactId, { contact: action.contact, echo: w.echo });
    }
  }
}
