import { randomUUID } from 'node:crypto';
import { siteKey, type SiteRef } from '../domain/site.js';
import type { ControlEnqueuer } from './ports/control.js';
import type { RunStore, RunTrigger } from './ports/planner.js';

/** What {@link requestResync} needs (app.ts `planDeps` has it). */
export interface ResyncDeps {
  readonly store: { readonly runs: Pick<RunStore, 'create'> };
  readonly control: ControlEnqueuer;
  readonly now: () => Date;
}

/** A manual reconcile asked for over HTTP (`POST /api/resync`, hold approval, the console). */
export interface ResyncRequest {
  readonly trigger: Extract<RunTrigger, 'api' | 'console'>;
  /** Empty: every enabled site. The caller has checked them against the CRM. */
  readonly sites: readonly SiteRef[];
  readonly dryRun: boolean;
  /** Lifts the deletion holds of `sites` (needs `sites`). */
  readonly approveDeletes: boolean;
}

/**
 * Records the run (status `planning`, so `GET /api/runs/:id` answers at once) and queues its plan for the control
 * worker (./control.ts `runResync`). Returns the run id and the API path of the run.
 * @throws when PostgreSQL or Redis cannot be written.
 */
export async function requestResync(deps: ResyncDeps, req: ResyncRequest): Promise<{ runId: string; href: string }> {
  const runId = randomUUID();
  const sites = req.sites.map((s) => siteKey(s));
  await deps.store.runs.create({ id: runId, trigger: req.trigger, dryRun: req.dryRun, sites, mode: 'reconcile', approveDeletes: req.approveDeletes, now: deps.now() });
  await deps.control.enqueueResync({ runId, sites, dryRun: req.dryRun, approveDeletes: req.approveDeletes });
  return { runId, href: `/api/runs/${runId}` };
}
