import type { Queue } from 'bullmq';
import pMap from 'p-map';
import pRetry from 'p-retry';
import { ChektNotFoundError, isChektError } from '../chekt/errors/index.js';
import type { ChektContactsApi, SiteRef } from '../chekt/types.js';
import type { NormalizeRules } from '../domain/contact.js';
import { planSite, planTotals, type LedgerEntry, type PlanTotals, type PlannedOperation, type SitePlan } from '../domain/plan.js';
import type { Logger } from '../logger.js';
import type { OperationJobData } from '../queue/jobs.js';
import { enqueueOperations, type EnqueueResult, type OperationJobOptions } from '../queue/producer.js';
import { findKnownContactIds, readLiveContacts, selectSites, type CrmSite } from '../source/crm.js';
import type { PrismaClient } from '../source/db.js';
import { findUnmappedLedgerSites, readLedger, writeLedger } from '../source/ledger.js';
import { dbNow, failRun, recordPlan } from '../source/runs.js';

/**
 * One reconcile pass: CRM → CHeKT's live lists → plan (domain/plan.ts) → run record → jobs.
 *
 * Safety: every CRM read happens before anything is recorded or enqueued; if one fails the run is marked
 * failed and nothing is planned (a failed read never looks like "no contacts"). A site whose CHeKT list
 * cannot be read is reported and left out of the plan; the other sites go on.
 */

/** What {@link planRun} needs. */
export interface PlanRunDeps {
  readonly db: PrismaClient;
  readonly chekt: ChektContactsApi;
  readonly operations: Queue<OperationJobData>;
  readonly jobOptions: OperationJobOptions;
  readonly rules: NormalizeRules;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Sites listed in parallel (each list still waits for the shared rate limit). Default 4. */
  readonly listConcurrency?: number;
}

/** A run to plan; its `sync_runs` row must exist (source/runs.ts `createRun`). */
export interface PlanRunRequest {
  readonly runId: string;
  /** Sites to plan; empty = every site with `sync_enabled`. */
  readonly sites: readonly SiteRef[];
  readonly dryRun: boolean;
}

/** A contact-level note kept in the run summary (invalid contact, dropped field). */
export interface ContactNote {
  readonly site: string;
  readonly externalContactId: string;
  readonly reason: string;
}

/** Stored as `sync_runs.planned` and returned to callers. Lists are capped at {@link NOTE_LIMIT} entries. */
export interface PlanSummary {
  readonly totals: PlanTotals;
  readonly rejectedSites: Array<{ ref: string; reason: string }>;
  readonly siteErrors: Array<{ site: string; error: string }>;
  readonly invalid: ContactNote[];
  readonly warnings: ContactNote[];
  readonly unmanagedBySite: Record<string, number>;
  /** CHeKT sites holding contacts this service created that no CRM site maps to any more (full runs only). */
  readonly unmappedSites: Array<{ site: string; contacts: number }>;
  readonly enqueue: EnqueueResult | null;
}

/** Longest list kept in a run summary. */
export const NOTE_LIMIT = 500;

/** Plans (and unless dry run, enqueues) one run. Throws when the CRM cannot be read (the run is marked failed). */
export async function planRun(deps: PlanRunDeps, req: PlanRunRequest): Promise<PlanSummary> {
  const log = deps.logger.child({ runId: req.runId });
  let selection: Awaited<ReturnType<typeof selectSites>>;
  let crmReadAt: Date;
  try {
    crmReadAt = await dbNow(deps.db);
    selection = await selectSites(deps.db, req.sites);
  } catch (err) {
    await failRun(deps.db, req.runId, `CRM read failed; nothing planned: ${(err as Error).message}`, deps.now()).catch(() => undefined);
    throw err;
  }
  const siteErrors: PlanSummary['siteErrors'] = [];
  let plans: SitePlan[];
  try {
    plans = await planSites(deps, selection.sites, siteErrors, log);
  } catch (err) {
    await failRun(deps.db, req.runId, `planning failed; nothing planned: ${(err as Error).message}`, deps.now()).catch(() => undefined);
    throw err;
  }
  const operations = plans.flatMap((p) => p.operations);
  if (!req.dryRun) await recordAdoptions(deps, req.runId, plans);
  const unmapped = req.sites.length === 0 ? await findUnmappedLedgerSites(deps.db) : [];
  const summary = { ...summarise(plans, selection.rejected, siteErrors), unmappedSites: unmapped };
  await recordPlan(deps.db, { id: req.runId, dryRun: req.dryRun, summary, operations, crmReadAt, now: deps.now() });
  const enqueue = req.dryRun ? null : await enqueueOperations(deps.operations, req.runId, operations, deps.jobOptions);
  if (enqueue) await deps.db.syncRun.update({ where: { id: req.runId }, data: { planned: { ...summary, enqueue } as object } });
  log.info({ dryRun: req.dryRun, ...summary.totals, siteErrors: siteErrors.length, enqueue }, 'run planned');
  return { ...summary, enqueue };
}

async function planSites(deps: PlanRunDeps, sites: readonly CrmSite[], siteErrors: PlanSummary['siteErrors'], log: Logger): Promise<SitePlan[]> {
  const plans: SitePlan[] = [];
  for (let i = 0; i < sites.length; i += 200) {
    const batch = sites.slice(i, i + 200);
    const [contacts, ledger] = await Promise.all([readLiveContacts(deps.db, batch.map((s) => s.id)), readLedger(deps.db, batch)]);
    const planned = await pMap(
      batch,
      async (site) => {
        const ref = `${site.dealerId}/${site.siteId}`;
        let remote;
        try {
          // Listing is read-only, so it is retried more than a write before the site is left out of the run.
          remote = await pRetry(() => deps.chekt.listContacts(site), {
            retries: 4,
            minTimeout: 500,
            randomize: true,
            shouldRetry: ({ error }) => isChektError(error) && error.retryable,
          });
        } catch (err) {
          if (!isChektError(err)) throw err;
          siteErrors.push({ site: ref, error: err.message });
          log.warn({ dealerId: site.dealerId, siteId: site.siteId, err }, 'cannot list CHeKT contacts; site left out of this run');
          return undefined;
        }
        const desired = contacts.get(site.id) ?? [];
        const desiredIds = new Set(desired.map((c) => c.id));
        const others = remote.map((c) => c.externalContactId).filter((x): x is string => !!x && !desiredIds.has(x));
        const knownToCrm = await findKnownContactIds(deps.db, others, site.id);
        const siteLedger = ledger.get(ref) ?? [];
        const plan = planSite({ site, desired, remote, ledger: siteLedger, knownToCrm, rules: deps.rules });
        const incomplete = await listLooksIncomplete(deps.chekt, site, plan, siteLedger);
        if (incomplete) {
          siteErrors.push({ site: ref, error: incomplete });
          log.warn({ dealerId: site.dealerId, siteId: site.siteId }, 'CHeKT list looks incomplete; site left out of this run');
          return undefined;
        }
        return plan;
      },
      { concurrency: deps.listConcurrency ?? 4 },
    );
    for (const p of planned) if (p) plans.push(p);
  }
  return plans;
}

/**
 * CHeKT may page or cap its list (pagination is undocumented, chekt-api.md §5). A contact the ledger created
 * on this site but missing from the list is either deleted in CHeKT (drift: recreate it) or beyond the list's
 * end (a create would duplicate it, and a delete decision could not be trusted). One GET of the first such
 * contact tells which; when it still exists, the site is left out of the run with this reason.
 */
async function listLooksIncomplete(chekt: ChektContactsApi, site: CrmSite, plan: SitePlan, ledger: readonly LedgerEntry[]): Promise<string | null> {
  const created = new Map(ledger.filter((l) => l.chektContactId).map((l) => [l.externalContactId, l.chektContactId!]));
  const missing = plan.operations.find((o) => o.kind === 'create' && created.has(o.externalContactId));
  if (!missing) return null;
  const contactId = created.get(missing.externalContactId)!;
  try {
    const found = await chekt.getContact(site, contactId);
    if (found.externalContactId?.normalize('NFC') !== missing.externalContactId.normalize('NFC')) return null;
  } catch (err) {
    if (err instanceof ChektNotFoundError) return null;
    if (isChektError(err)) return `cannot check whether CHeKT's contact list is complete: ${err.message}`;
    throw err;
  }
  return `CHeKT's contact list omits contact ${contactId} (external_contact_id ${missing.externalContactId}) although it exists: the list looks paged or capped, so this site is not planned`;
}

async function recordAdoptions(deps: PlanRunDeps, runId: string, plans: readonly SitePlan[]): Promise<void> {
  for (const p of plans) {
    for (const a of p.adoptions) {
      await writeLedger(deps.db, { site: p.site, externalContactId: a.externalContactId, chektContactId: a.chektContactId, kind: 'adopt', outcome: 'succeeded', runId, now: deps.now() });
    }
  }
}

function summarise(plans: readonly SitePlan[], rejectedSites: PlanSummary['rejectedSites'], siteErrors: PlanSummary['siteErrors']): Omit<PlanSummary, 'unmappedSites'> {
  const notes = (pick: (p: SitePlan) => ReadonlyArray<{ externalContactId: string; reason: string }>) =>
    plans.flatMap((p) => pick(p).map((n) => ({ site: `${p.site.dealerId}/${p.site.siteId}`, ...n }))).slice(0, NOTE_LIMIT);
  const unmanagedBySite: Record<string, number> = {};
  for (const p of plans) if (p.unmanaged > 0) unmanagedBySite[`${p.site.dealerId}/${p.site.siteId}`] = p.unmanaged;
  return {
    totals: planTotals(plans),
    rejectedSites,
    siteErrors,
    invalid: notes((p) => p.skipped),
    warnings: notes((p) => p.warnings),
    unmanagedBySite,
    enqueue: null,
  };
}

export type { PlannedOperation };
