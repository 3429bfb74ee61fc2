import { unreachableOf, type SiteReachRow } from '../domain/reach.js';
import { NOTE_LIMIT, type PlanSummary } from '../domain/runSummary.js';
import { countSiteOperations, isHoldableDelete, resolveHolds, type Hold } from '../domain/safety.js';
import { siteKey, type SiteKey, type SiteRef } from '../domain/site.js';
import type { Logger } from '../logger.js';
import { planChangedContacts } from './changedContacts.js';
import type { ModePlan, PlannerDeps, PlanRequest, PlanScope } from './planRequest.js';
import type { RunTrigger, SiteCounts } from './ports/planner.js';
import { reconcileSites } from './reconcileSites.js';

/**
 * One plan, in one of two modes, then the deletion holds, the run record and the jobs:
 * - `changes` (ticks and CRM notifications): the CRM against the ledger in SQL (./changedContacts.ts), with no
 *   CHeKT call; a tick with no CRM change reads nothing and writes nothing.
 * - `reconcile` (manual resyncs and the reconcile schedule): the CRM against CHeKT's live lists
 *   (./reconcileSites.ts), which repairs drift made in CHeKT's portal.
 * Which one, over which sites, and how the run is recorded follow from the request (./planRequest.ts).
 *
 * Safety: every CRM read happens before anything is recorded or enqueued; if one fails the run is marked
 * failed and nothing is planned (a failed read never looks like "no contacts"). Deletes that look like a
 * mistake are held (domain/safety.ts) until an operator approves them.
 */

export type { PlannerDeps, PlanRequest } from './planRequest.js';

/** A request's scope, and how its run is recorded. */
interface Shape extends PlanScope {
  /** The trigger of the run row the planner writes only when there is work; null: the caller wrote the row. */
  readonly newRun: RunTrigger | null;
  readonly dryRun: boolean;
  /** Sites whose holds an operator approves. */
  readonly approve: readonly SiteRef[];
}

/** What a request means (./planRequest.ts). */
function shapeOf(req: PlanRequest): Shape {
  const base = { sites: [], crmSiteIds: null, paceLists: false, dryRun: false, approve: [] };
  switch (req.kind) {
    case 'change_tick':
      return { ...base, mode: 'changes', newRun: 'schedule' };
    case 'notified_changes':
      return { ...base, mode: 'changes', crmSiteIds: req.crmSiteIds, newRun: 'notify' };
    case 'scheduled_reconcile':
      return { ...base, mode: 'reconcile', paceLists: true, newRun: 'reconcile_schedule' };
    case 'resync':
      return { ...base, mode: 'reconcile', sites: req.sites, dryRun: req.dryRun, approve: req.approveDeletes ? req.sites : [], newRun: null };
    case 'changes_run':
      return { ...base, mode: 'changes', dryRun: req.dryRun, newRun: null };
  }
}

/** Everything a plan reads before it records or enqueues anything. */
interface PlanReads {
  readonly stored: Map<SiteKey, Hold>;
  readonly crmReadAt: Date;
  readonly plan: ModePlan;
  readonly counts: Map<SiteKey, SiteCounts>;
  readonly totalManaged: number;
  readonly reach: Awaited<ReturnType<typeof readRunReach>>;
}

/**
 * Plans (and unless dry run, enqueues) one run; returns its summary.
 * @throws the store's error when the CRM, the ledger or the holds cannot be read: nothing is planned, and a run
 * whose row the caller wrote is marked failed.
 */
export async function planRun(deps: PlannerDeps, req: PlanRequest): Promise<PlanSummary> {
  const shape = shapeOf(req);
  const log = deps.logger.child({ runId: req.runId, mode: shape.mode });
  const reads = await readAll(deps, req.runId, shape, log);
  const { plan, stored } = reads;
  const approvalRequested = new Set(shape.approve.map((s) => siteKey(s)));
  const { holds, approved } = resolveHolds({ stats: deleteStats(reads), totalManaged: reads.totalManaged, rules: deps.holdRules, stored, approvalRequested });
  const heldSites = new Set(holds.map((h) => h.site));
  const isHeld = (o: ModePlan['operations'][number]) => isHoldableDelete(o) && heldSites.has(siteKey(o));
  const toRun = plan.operations.filter((o) => !isHeld(o));
  const heldKeys = new Set(plan.operations.filter(isHeld).map((o) => o.opKey));
  const unmapped = shape.mode === 'reconcile' && shape.sites.length === 0 ? await deps.store.ledger.findUnmappedSites() : [];
  const summary = summarize(shape, reads, holds, heldKeys.size, unmapped);
  const now = deps.now();
  const { ledger, runs } = deps.store;
  const keep = new Set(plan.siteErrors.map((e) => e.site));
  if (!shape.dryRun && shape.newRun !== null && toRun.length === 0) {
    const newHold = holds.some((h) => stored.get(h.site)?.deletes !== h.deletes || stored.get(h.site)?.reason !== h.reason);
    if (!newHold) {
      await ledger.settle(plan.settled, null, now);
      await deps.store.holds.save(holds, plan.scope, null, now, keep);
      return { ...summary, recorded: false };
    }
  }
  if (shape.newRun !== null) {
    await runs.create({ id: req.runId, trigger: shape.newRun, dryRun: shape.dryRun, sites: [], mode: shape.mode, approveDeletes: false, now });
  }
  if (!shape.dryRun) {
    for (const a of plan.adoptions) await ledger.adopt({ ...a, runId: req.runId, now });
    await ledger.settle(plan.settled, req.runId, now);
  }
  await runs.recordPlan({ id: req.runId, dryRun: shape.dryRun, summary, operations: plan.operations, heldKeys, crmReadAt: reads.crmReadAt, now });
  if (shape.dryRun) {
    log.info({ dryRun: true, ...summary.totals }, 'run planned');
    return summary;
  }
  await deps.store.holds.save(holds, plan.scope, req.runId, now, keep);
  await ledger.markPending(toRun, now);
  const enqueue = await deps.operations.enqueue(req.runId, toRun, approved);
  await runs.recordEnqueued(req.runId, { ...summary, enqueue });
  if (holds.length > 0) log.warn({ held: holds.map((h) => h.site) }, 'deletes held until an operator approves them');
  if (summary.unreachableSites.length > 0) {
    log.warn({ unreachableSites: summary.unreachableSites.map((u) => u.site) }, 'sites without an SMS-capable contact: CHeKT cannot text their verification link to anyone');
  }
  log.info({ ...summary.totals, siteErrors: summary.siteErrors.length, enqueue }, 'run planned');
  return { ...summary, enqueue };
}

/** Every read of a plan; when one fails, a run whose row the caller wrote is marked failed, and the error thrown. */
async function readAll(deps: PlannerDeps, runId: string, shape: Shape, log: Logger): Promise<PlanReads> {
  try {
    const stored = await deps.store.holds.read();
    const crmReadAt = await deps.store.crm.clock();
    const plan = shape.mode === 'changes' ? await planChangedContacts(deps, shape.crmSiteIds, log) : await reconcileSites(deps, shape, log);
    const withDeletes = countSiteOperations(plan.operations);
    const counts = await deps.store.changes.readSiteCounts(
      [...withDeletes.values()].map((s) => s.crmSiteId),
      deps.holdRules.windowSeconds,
    );
    const totalManaged = withDeletes.size === 0 ? 0 : await deps.store.changes.countManaged(plan.crmSiteIds);
    const reach = await readRunReach(deps, shape, plan);
    return { stored, crmReadAt, plan, counts, totalManaged, reach };
  } catch (err) {
    if (shape.newRun === null) await deps.store.runs.fail(runId, `CRM read failed; nothing planned: ${(err as Error).message}`, deps.now()).catch(() => undefined);
    throw err;
  }
}

/** The hold decision's numbers per site with holdable deletes (domain/safety.ts `SiteDeleteStats`). */
function deleteStats({ plan, counts, reach }: PlanReads) {
  return [...countSiteOperations(plan.operations)].map(([site, o]) => ({
    site,
    ...o,
    live: counts.get(site)?.live ?? 0,
    managed: counts.get(site)?.managed ?? 0,
    recentDeletes: counts.get(site)?.recentDeletes ?? 0,
    // A site missing from the reachability read (not enabled) is not judged by the SMS rule.
    ...(reach.after.has(site) ? { smsRemaining: reach.after.get(site)!.smsCapable } : {}),
    smsDeleted: reach.smsDeleted.get(site) ?? 0,
  }));
}

/** The run summary before the enqueue (`enqueue` null). */
function summarize(shape: Shape, { plan, reach }: PlanReads, holds: Hold[], held: number, unmapped: PlanSummary['unmappedSites']): PlanSummary {
  return {
    mode: shape.mode,
    recorded: true,
    totals: { ...plan.totals, held, driftRepairs: plan.operations.filter((o) => o.reason === 'drift_edited' || o.reason === 'drift_deleted').length },
    rejectedSites: plan.rejectedSites,
    siteErrors: plan.siteErrors,
    invalid: plan.invalid.slice(0, NOTE_LIMIT),
    sourceProblems: plan.sourceProblems.slice(0, NOTE_LIMIT),
    warnings: plan.warnings.slice(0, NOTE_LIMIT),
    unmanagedBySite: plan.unmanagedBySite,
    unmappedSites: unmapped,
    held: holds,
    unreachableSites: unreachableOf([...reach.after.values()]).slice(0, NOTE_LIMIT),
    reachableAgainSites: [...reach.after.values()]
      .filter((r) => r.smsCapable > 0 && reach.before.get(r.site)?.smsCapable === 0)
      .map((r) => ({ site: r.site, smsCapable: r.smsCapable }))
      .slice(0, NOTE_LIMIT),
    enqueue: null,
  };
}

/**
 * Reachability of the planned sites (docs/REACHABILITY.md):
 * - `after`: once the plan is applied (the CRM's live contacts; a contact the plan writes again is judged by its
 *   phone, and its next echo check decides);
 * - `before`: what this service holds in CHeKT now (the phones last sent, and their echo checks);
 * - `smsDeleted`: the SMS-capable contacts among the planned deletes (domain/safety.ts rule 3).
 * A reconcile covers its sites (every enabled one when none is named); a change tick, the sites it has
 * operations on (none: no query).
 */
async function readRunReach(deps: PlannerDeps, shape: Shape, plan: ModePlan) {
  const scope = shape.mode === 'reconcile' ? plan.crmSiteIds : [...new Set(plan.operations.map((o) => o.crmSiteId))];
  const deletes = plan.operations.filter(isHoldableDelete);
  const writes = new Set(plan.operations.filter((o) => o.kind !== 'delete').map((o) => `${siteKey(o)}\n${o.externalContactId}`));
  const { reach } = deps.store;
  const [after, before, smsDeleted] = await Promise.all([
    reach.readSiteReach(deps.rules, scope, { rewritten: (site, ext) => writes.has(`${site}\n${ext}`) }),
    reach.readSentReach(deps.rules, scope),
    reach.countSmsCapableSent(deps.rules, deletes),
  ]);
  return { after: new Map<string, SiteReachRow>(after.map((r) => [r.site, r])), before, smsDeleted };
}
