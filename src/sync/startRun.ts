import { randomUUID } from 'node:crypto';
import type { SiteRef } from '../domain/site.js';
import { storableTextProblem } from '../domain/text.js';
import { createRun, type RunTrigger } from '../source/runs.js';
import { planRun, type PlanRunDeps, type PlanSummary } from './planRun.js';

/** Formats a site as the CLI and API spell it: `dealerId/siteId`. */
export function formatSiteRef(s: SiteRef): string {
  return `${s.dealerId}/${s.siteId}`;
}

/**
 * Parses `dealerId/siteId` (the CLI's `--site` and the API's `sites[]`).
 * @throws {Error} naming the value when it is not two non-empty parts separated by one "/", or holds text
 * PostgreSQL cannot store (a NUL or a lone surrogate: domain/text.ts `storableTextProblem`).
 */
export function parseSiteRef(value: string): SiteRef {
  const parts = value.split('/');
  const shown = () => JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (parts.length !== 2 || !parts[0]?.trim() || !parts[1]?.trim()) {
    throw new Error(`invalid site ${shown()}: expected <dealerId>/<siteId>, e.g. 10001/42`);
  }
  const problem = storableTextProblem(value);
  if (problem) throw new Error(`invalid site ${shown()}: ${problem}`);
  return { dealerId: parts[0].trim(), siteId: parts[1].trim() };
}

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
  await createRun(deps.db, { id: runId, trigger: req.trigger, dryRun: req.dryRun, sites: req.sites.map(formatSiteRef), mode, approveDeletes, now: deps.now() });
  const summary = await planRun(deps, { runId, mode, sites: req.sites, dryRun: req.dryRun, approveDeletes });
  return { runId, summary };
}
