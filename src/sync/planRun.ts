import type { Queue } from 'bullmq';
import type { RateLimiter } from '../chekt/rateLimiter.js';
import type { ChektContactsApi } from '../chekt/types.js';
import { siteKey, type SiteKey, type SiteRef } from '../domain/site.js';
import type { SettledContact } from '../domain/changes.js';
import { NOTE_LIMIT, type ContactNote, type PlanSummary } from '../domain/runSummary.js';
import { externalIdProblem, type NormalizeRules } from '../domain/contact.js';
import { planTotals, type PlannedOperation, type PlanTotals } from '../domain/plan.js';
import { countSiteOperations, isHoldableDelete, resolveHolds, type HoldRules } from '../domain/safety.js';
import type { Logger } from '../logger.js';
import type { OperationJobData } from '../queue/jobs.js';
import { enqueueOperations, type OperationJobOptions } from '../queue/producer.js';
import { countManaged, readChangedContacts, readRemovedContacts, readSiteCounts, readUnseenSites } from '../source/changes.js';
import { selectSitesById } from '../source/crm.js';
import type { PrismaClient } from '../source/db.js';
import { readHolds, saveHolds } from '../source/holds.js';
import { countSmsCapableSent, readSentReach, readSiteReach, unreachableOf } from '../source/reach.js';
import { findUnmappedLedgerSites, markPending, settleContacts, writeLedger } from '../source/ledger.js';
import { dbNow } from '../source/db.js';
import { createRun, failRun, recordPlan, type RunTrigger } from '../source/runs.js';
import { planChangesInSlices } from './planSlices.js';
import { reconcileSites } from './reconcileSites.js';

/**
 * One plan, in one of two modes, then the deletion holds, the run record and the jobs:
 * - `changes` (ticks and CRM notifications): the CRM against the ledger in SQL (source/changes.ts), with no
 *   CHeKT call; a tick with no CRM change reads nothing and writes nothing.
 * - `reconcile` (manual resyncs and the reconcile schedule): the CRM against CHeKT's live lists
 *   (./reconcileSites.ts), which repairs drift made in CHeKT's portal.
 *
 * Safety: every CRM read happens before anything is recorded or enqueued; if one fails the run is marked
 * failed and nothing is planned (a failed read never looks like "no contacts"). Deletes that look like a
 * mistake are held (domain/safety.ts) until an operator approves them.
 */

/** What {@link planRun} needs. */
export interface PlanRunDeps {
  readonly db: PrismaClient;
  readonly chekt: ChektContactsApi;
  readonly operations: Queue<OperationJobData>;
  readonly jobOptions: OperationJobOptions;
  readonly rules: NormalizeRules;
  readonly holdRules: HoldRules;
  /** Config `FAILED_RETRY_COOLDOWN_SECONDS`. */
  readonly failedCooldownSeconds: number;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Sites listed in parallel by a reconcile (each list still waits for the shared rate limit). Default 4. */
  readonly listConcurrency?: number;
  /** Paces the list calls of a scheduled reconcile (`RECONCILE_RATE_SHARE_PERCENT` of the rate limit). */
  readonly reconcileLimiter?: RateLimiter;
}

/** A run to plan. */
export interface PlanRunRequest {
  readonly runId: string;
  readonly mode: 'changes' | 'reconcile';
  /** Reconcile: sites to plan; empty = every site with `sync_enabled`. */
  readonly sites: readonly SiteRef[];
  /** Changes: CRM `sites.id`s to plan (from notifications); null or absent = every enabled site. */
  readonly crmSiteIds?: readonly string[] | null;
  readonly dryRun: boolean;
  /** Lifts deletion holds of `sites` (an operator approved them). Only with explicit `sites`. Default false. */
  readonly approveDeletes?: boolean;
  /**
   * Create the `sync_runs` row here (scheduled runs). With `onlyIfWork`, no row is written when the plan has
   * nothing to enqueue and no new hold, so a quiet tick leaves no history. Absent: the row already exists.
   */
  readonly createRun?: { readonly trigger: RunTrigger; readonly onlyIfWork: boolean };
  /** Pace list calls with {@link PlanRunDeps.reconcileLimiter} (scheduled reconciles). Default false. */
  readonly paceLists?: boolean;
}

export type { ContactNote, PlanSummary };

/** What a mode's planning hands to the common tail. */
interface ModePlan {
  readonly operations: PlannedOperation[];
  readonly settled: SettledContact[];
  readonly adoptions: Array<{ site: SiteRef; externalContactId: string; chektContactId: string }>;
  readonly totals: PlanTotals;
  readonly rejectedSites: PlanSummary['rejectedSites'];
  readonly siteErrors: PlanSummary['siteErrors'];
  readonly invalid: ContactNote[];
  readonly warnings: ContactNote[];
  readonly unmanagedBySite: Record<string, number>;
  /** Sites planned, for clearing their holds; null = every site. */
  readonly scope: SiteKey[] | null;
  /** CRM `sites.id`s planned, for the run-wide managed count; null = every enabled site. */
  readonly crmSiteIds: string[] | null;
}

/** Plans (and unless dry run, enqueues) one run. Throws when the CRM cannot be read (the run is marked failed). */
export async function planRun(deps: PlanRunDeps, req: PlanRunRequest): Promise<PlanSummary> {
  const log = deps.logger.child({ runId: req.runId, mode: req.mode });
  let crmReadAt: Date;
  let plan: ModePlan;
  let counts: Awaited<ReturnType<typeof readSiteCounts>>;
  let totalManaged: number;
  let stored: Awaited<ReturnType<typeof readHolds>>;
  let reach: Awaited<ReturnType<typeof readRunReach>>;
  try {
    stored = await readHolds(deps.db);
    crmReadAt = await dbNow(deps.db);
    plan = req.mode === 'changes' ? await planChangeTick(deps, req, log) : await reconcileSites(deps, req, log);
    const withDeletes = countSiteOperations(plan.operations);
    counts = await readSiteCounts(deps.db, [...withDeletes.values()].map((s) => s.crmSiteId), deps.holdRules.windowSeconds);
    totalManaged = withDeletes.size === 0 ? 0 : await countManaged(deps.db, plan.crmSiteIds);
    reach = await readRunReach(deps, req, plan);
  } catch (err) {
    if (!req.createRun) await failRun(deps.db, req.runId, `CRM read failed; nothing planned: ${(err as Error).message}`, deps.now()).catch(() => undefined);
    throw err;
  }
  const approvalRequested = new Set(req.approveDeletes ? req.sites.map((s) => siteKey(s)) : []);
  const stats = [...countSiteOperations(plan.operations)].map(([site, o]) => ({
    site,
    ...o,
    live: counts.get(site)?.live ?? 0,
    managed: counts.get(site)?.managed ?? 0,
    recentDeletes: counts.get(site)?.recentDeletes ?? 0,
    // A site missing from the reachability read (not enabled) is not judged by the SMS rule.
    ...(reach.after.has(site) ? { smsRemaining: reach.after.get(site)!.smsCapable } : {}),
    smsDeleted: reach.smsDeleted.get(site) ?? 0,
  }));
  const { holds, approved } = resolveHolds({ stats, totalManaged, rules: deps.holdRules, stored, approvalRequested });
  const heldSites = new Set(holds.map((h) => h.site));
  const isHeld = (o: PlannedOperation) => isHoldableDelete(o) && heldSites.has(siteKey(o));
  const toRun = plan.operations.filter((o) => !isHeld(o));
  const heldKeys = new Set(plan.operations.filter(isHeld).map((o) => o.opKey));

  const unmapped = req.mode === 'reconcile' && req.sites.length === 0 ? await findUnmappedLedgerSites(deps.db) : [];
  const summary: PlanSummary = {
    mode: req.mode,
    recorded: true,
    totals: { ...plan.totals, held: heldKeys.size, driftRepairs: plan.operations.filter((o) => o.reason === 'drift_edited' || o.reason === 'drift_deleted').length },
    rejectedSites: plan.rejectedSites,
    siteErrors: plan.siteErrors,
    invalid: plan.invalid.slice(0, NOTE_LIMIT),
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
  const now = deps.now();
  if (!req.dryRun) {
    const newHold = holds.some((h) => stored.get(h.site)?.deletes !== h.deletes || stored.get(h.site)?.reason !== h.reason);
    if (req.createRun?.onlyIfWork && toRun.length === 0 && !newHold) {
      await settleContacts(deps.db, plan.settled, null, now);
      await saveHolds(deps.db, holds, plan.scope, null, now, new Set(plan.siteErrors.map((e) => e.site)));
      return { ...summary, recorded: false };
    }
  }
  if (req.createRun) await createRun(deps.db, { id: req.runId, trigger: req.createRun.trigger, dryRun: req.dryRun, sites: req.sites.map((s) => siteKey(s)), mode: req.mode, approveDeletes: !!req.approveDeletes, now });
  if (!req.dryRun) {
    for (const a of plan.adoptions) {
      await writeLedger(deps.db, { site: a.site, externalContactId: a.externalContactId, chektContactId: a.chektContactId, kind: 'adopt', outcome: 'succeeded', runId: req.runId, now });
    }
    await settleContacts(deps.db, plan.settled, req.runId, now);
  }
  await recordPlan(deps.db, { id: req.runId, dryRun: req.dryRun, summary, operations: plan.operations, heldKeys, crmReadAt, now });
  if (req.dryRun) {
    log.info({ dryRun: true, ...summary.totals }, 'run planned');
    return summary;
  }
  await saveHolds(deps.db, holds, plan.scope, req.runId, now, new Set(plan.siteErrors.map((e) => e.site)));
  await markPending(deps.db, toRun, now);
  const enqueue = await enqueueOperations(deps.operations, req.runId, toRun, deps.jobOptions, { approveDeletes: approved });
  await deps.db.syncRun.update({ where: { id: req.runId }, data: { planned: { ...summary, enqueue } as object } });
  if (holds.length > 0) log.warn({ held: holds.map((h) => h.site) }, 'deletes held until an operator approves them');
  if (summary.unreachableSites.length > 0) {
    log.warn({ unreachableSites: summary.unreachableSites.map((u) => u.site) }, 'sites without an SMS-capable contact: CHeKT cannot text their verification link to anyone');
  }
  log.info({ ...summary.totals, siteErrors: summary.siteErrors.length, enqueue }, 'run planned');
  return { ...summary, enqueue };
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
async function readRunReach(deps: PlanRunDeps, req: PlanRunRequest, plan: ModePlan) {
  const scope = req.mode === 'reconcile' ? plan.crmSiteIds : [...new Set(plan.operations.map((o) => o.crmSiteId))];
  const deletes = plan.operations.filter(isHoldableDelete);
  const writes = new Set(plan.operations.filter((o) => o.kind !== 'delete').map((o) => `${siteKey(o)}\n${o.externalContactId}`));
  const [after, before, smsDeleted] = await Promise.all([
    readSiteReach(deps.db, deps.rules, scope, { rewritten: (site, ext) => writes.has(`${site}\n${ext}`) }),
    readSentReach(deps.db, deps.rules, scope),
    countSmsCapableSent(deps.db, deps.rules, deletes),
  ]);
  return { after: new Map(after.map((r) => [r.site, r])), before, smsDeleted };
}

/**
 * The `changes` mode: CRM rows whose fingerprint differs from the ledger's, and removed contacts. A site the
 * ledger has never seen (a first sync, or a site new to the CRM) is reconciled instead: one list call finds
 * contacts CHeKT already holds (adopted, not created twice) and the dealer's own (left alone).
 */
async function planChangeTick(deps: PlanRunDeps, req: PlanRunRequest, log: Logger): Promise<ModePlan> {
  const crmSiteIds = req.crmSiteIds ?? null;
  const scope = { crmSiteIds, rules: deps.rules, failedCooldownSeconds: deps.failedCooldownSeconds };
  const [allChanged, removed, sites] = await Promise.all([
    readChangedContacts(deps.db, scope),
    readRemovedContacts(deps.db, scope),
    crmSiteIds === null ? Promise.resolve(null) : selectSitesById(deps.db, crmSiteIds),
  ]);
  // Contacts with an unusable id get no ledger row, so they must not make their site look never seen.
  const creatable = allChanged.filter((r) => !r.chektContactId && !externalIdProblem(r.contact.id));
  const unseen = await readUnseenSites(deps.db, [...new Set(creatable.map((r) => r.crmSiteId))]);
  const unseenIds = new Set(unseen.map((s) => s.id));
  const changed = unseenIds.size === 0 ? allChanged : allChanged.filter((r) => !unseenIds.has(r.crmSiteId));
  const first = unseen.length === 0 ? null : await reconcileSites(deps, { ...req, mode: 'reconcile', sites: unseen, paceLists: false }, log);
  const p = await planChangesInSlices(changed, removed, deps.rules);
  const t = planTotals([]);
  t.sites = new Set([...p.operations.map((o) => siteKey(o)), ...p.settled.map((s) => siteKey(s))]).size;
  for (const o of p.operations) t[o.kind === 'create' ? 'creates' : o.kind === 'update' ? 'updates' : 'deletes'] += 1;
  t.unchanged = p.settled.filter((s) => s.outcome === 'succeeded').length;
  t.invalid = p.skipped.length;
  t.warnings = p.warnings.length;
  const own: ModePlan = {
    operations: p.operations,
    settled: p.settled,
    adoptions: [],
    totals: t,
    rejectedSites: [],
    siteErrors: [],
    invalid: p.skipped,
    warnings: p.warnings,
    unmanagedBySite: {},
    scope: sites === null ? null : sites.map((s) => siteKey(s)),
    crmSiteIds: crmSiteIds === null ? null : [...crmSiteIds],
  };
  return first ? mergePlans(own, first) : own;
}

/** A change plan with the reconcile of its unseen sites folded in (scope and site ids stay the change plan's). */
function mergePlans(a: ModePlan, b: ModePlan): ModePlan {
  const totals = { ...a.totals };
  for (const k of Object.keys(totals) as Array<keyof PlanTotals>) totals[k] += b.totals[k];
  return {
    ...a,
    operations: [...a.operations, ...b.operations],
    settled: [...a.settled, ...b.settled],
    adoptions: [...a.adoptions, ...b.adoptions],
    totals,
    siteErrors: [...a.siteErrors, ...b.siteErrors],
    invalid: [...a.invalid, ...b.invalid],
    warnings: [...a.warnings, ...b.warnings],
    unmanagedBySite: { ...a.unmanagedBySite, ...b.unmanagedBySite },
  };
}

export type { PlannedOperation, ModePlan };
