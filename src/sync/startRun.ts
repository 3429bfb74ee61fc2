import { randomUUID } from 'node:crypto';
import { siteKey, type SiteRef } from '../domain/site.js';
import { createRun, type RunTrigger } from '../source/runs.js';
import { planRun, type PlanRunDeps, type PlanSummary } from './planRun.js';

/**
 * Creates a run row and plans it now (CLI, demo). A manual run reconciles against CHeKT's live lists by
 * default (drift repair on every manual resync); `mode: 'changes'` plans from the ledger only.
 * `approveDeletes` lifts the deletion holds of `sites` (it needs explicit sites). Returns the run id and summary.
 */
export async function startRun(
  deps: PlanRunDeps,
  req: { trigger: RunTrigger; sites: readonly SiteRef[]; dryRun: boolean; runId?: string; mode?: 'changes' | 'reconcile'; approveDeletes?: boolean },
): Promise<{ runId: string; summary: PlanSummary }> {
  const runId = req.runId ?? randomUUID();
  const mode = req.mode ?? 'reconcile';
  const approveDeletes = !!req.approveDeletes && req.sites.length > 0;
  await createRun(deps.db, { id: runId, trigger: req.trigger, dryRun: req.dryRun, sites: req.sites.map((s) => siteKey(s)), mode, approveDeletes, now: deps.now() });
  const summary = await planRun(deps, { runId, mode, sites: req.sites, dryRun: req.dryRun, approveDeletes });
  return { runId, summary };
}
