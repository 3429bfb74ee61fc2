import { randomUUID } from 'node:crypto';
import type { SiteRef } from '../domain/site.js';
import { planRun } from './planRun.js';
import type { PlannerDeps, ScheduledPlan } from './planRequest.js';
import type { PlanSummary } from '../domain/runSummary.js';
import type { ControlEnqueuer } from './ports/control.js';

/**
 * The control use cases: what each control job (queue/jobs.ts `ControlJobData`) does, by name. The control
 * worker (queue/controlProcessor.ts) calls them, and so do the bench and tests that want exactly a scheduled
 * plan. Each returns a {@link ControlOutcome}, kept by BullMQ as the job's return value.
 */

/** What the control use cases need: the planner's deps, the control queue, and the requeue of lost jobs. */
export interface ControlDeps extends PlannerDeps {
  readonly control: ControlEnqueuer;
  /**
   * Enqueues again the operations of run `runId` that no job will settle (sync/requeue.ts `requeueOrphans`);
   * returns how many.
   */
  readonly requeueOrphans: (runId: string) => Promise<number>;
}

/** A control job's result: the run it recorded (null: a quiet scheduled plan recorded none) and its totals. */
export interface ControlOutcome {
  readonly runId: string | null;
  readonly totals: PlanSummary['totals'];
}

/** A run still `running` this long after planning has its lost jobs enqueued again by the next change tick. */
export const TICK_STALE_RUN_MS = 60_000;

/**
 * The job scheduler's change tick (every `SYNC_INTERVAL_SECONDS`): first, runs that still wait on operations no
 * job will settle (jobs lost from Redis, or finished on older CRM data) get those operations enqueued again;
 * then {@link planChangeTick}.
 * @throws when PostgreSQL or Redis cannot be read (the job fails; the next tick tries again).
 */
export async function runChangeTick(deps: ControlDeps, runId: string = randomUUID()): Promise<ControlOutcome> {
  for (const stale of await deps.store.runs.listStale(TICK_STALE_RUN_MS, deps.now())) {
    const n = await deps.requeueOrphans(stale);
    if (n > 0) deps.logger.warn({ runId: stale, operations: n }, 'enqueued orphaned operations again');
  }
  return planChangeTick(deps, runId);
}

/**
 * The plan of a change tick: the CRM's changes on every enabled site; no run row when nothing changed. The
 * bench measures this (tools/bench), without the tick's repair of stale runs.
 * @throws when the CRM cannot be read (nothing is planned).
 */
export async function planChangeTick(deps: PlannerDeps, runId: string = randomUUID()): Promise<ControlOutcome> {
  return planScheduled(deps, { kind: 'change_tick', runId });
}

/**
 * A change plan of the CRM sites PostgreSQL notified (sync/notifications.ts; `crmSiteIds` are CRM site ids).
 * @throws when the CRM cannot be read (nothing is planned; the next tick plans the same changes).
 */
export async function runNotifiedChanges(deps: PlannerDeps, crmSiteIds: readonly string[], runId: string = randomUUID()): Promise<ControlOutcome> {
  return planScheduled(deps, { kind: 'notified_changes', runId, crmSiteIds });
}

/**
 * The scheduled reconcile (`RECONCILE_CRON`): every enabled site against CHeKT's lists, the list calls paced at
 * `RECONCILE_RATE_SHARE_PERCENT` of the rate limit. No run row when it finds nothing to do.
 * @throws when the CRM cannot be read.
 */
export async function runScheduledReconcile(deps: PlannerDeps, runId: string = randomUUID()): Promise<ControlOutcome> {
  return planScheduled(deps, { kind: 'scheduled_reconcile', runId });
}

/**
 * The plan of a resync an operator asked for over HTTP (./requestResync.ts wrote its run row): a reconcile of
 * `sites` (empty: every enabled site); `approveDeletes` lifts their holds for the deletes each hold showed.
 * @throws when the CRM cannot be read (the run is marked failed).
 */
export async function runResync(
  deps: PlannerDeps,
  job: { readonly runId: string; readonly sites: readonly SiteRef[]; readonly dryRun: boolean; readonly approveDeletes: boolean },
): Promise<ControlOutcome> {
  const summary = await planRun(deps, { kind: 'resync', ...job });
  return { runId: job.runId, totals: summary.totals };
}

async function planScheduled(deps: PlannerDeps, req: ScheduledPlan): Promise<ControlOutcome> {
  const summary = await planRun(deps, req);
  return { runId: summary.recorded ? req.runId : null, totals: summary.totals };
}
