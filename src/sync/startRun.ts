import { randomUUID } from 'node:crypto';
import { siteKey, type SiteRef } from '../domain/site.js';
import { planRun } from './planRun.js';
import type { PlannerDeps, RecordedPlan } from './planRequest.js';
import type { PlanSummary } from '../domain/runSummary.js';
import type { RunTrigger } from './ports/planner.js';

/**
 * A run started by hand (CLI, demo, tests): a reconcile against CHeKT's live lists (the default: drift repair on
 * every manual resync) of `sites` (empty: every enabled site), or, with `mode: 'changes'`, a change plan of every
 * enabled site from the ledger only. `approveDeletes` (reconcile, with explicit `sites`) lifts their holds.
 * `runId` defaults to a new UUID.
 */
export type StartRunRequest =
  | {
      readonly mode?: 'reconcile';
      readonly trigger: RunTrigger;
      readonly sites: readonly SiteRef[];
      readonly dryRun: boolean;
      readonly approveDeletes?: boolean;
      readonly runId?: string;
    }
  | { readonly mode: 'changes'; readonly trigger: RunTrigger; readonly dryRun: boolean; readonly runId?: string };

/**
 * Writes the run's row (status `planning`) and plans it now. Returns the run id and the summary.
 * @throws what {@link planRun} throws (the run is then marked failed).
 */
export async function startRun(deps: PlannerDeps, req: StartRunRequest): Promise<{ runId: string; summary: PlanSummary }> {
  const runId = req.runId ?? randomUUID();
  const plan: RecordedPlan =
    req.mode === 'changes'
      ? { kind: 'changes_run', runId, dryRun: req.dryRun }
      : { kind: 'resync', runId, sites: req.sites, dryRun: req.dryRun, approveDeletes: !!req.approveDeletes && req.sites.length > 0 };
  const sites = plan.kind === 'resync' ? plan.sites.map((s) => siteKey(s)) : [];
  const approveDeletes = plan.kind === 'resync' && plan.approveDeletes;
  await deps.store.runs.create({ id: runId, trigger: req.trigger, dryRun: req.dryRun, sites, mode: plan.kind === 'resync' ? 'reconcile' : 'changes', approveDeletes, now: deps.now() });
  return { runId, summary: await planRun(deps, plan) };
}
