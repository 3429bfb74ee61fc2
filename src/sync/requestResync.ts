import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { ControlJobData } from '../queue/jobs.js';
import type { PrismaClient } from '../source/db.js';
import { createRun, type RunTrigger } from '../source/runs.js';
import { siteKey, type SiteRef } from '../domain/site.js';

/** What {@link requestResync} needs. */
export interface ResyncDeps {
  readonly db: PrismaClient;
  readonly controlQueue: Queue<ControlJobData>;
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
 * worker. Returns the run id and the API path of the run.
 */
export async function requestResync(deps: ResyncDeps, req: ResyncRequest): Promise<{ runId: string; href: string }> {
  const runId = randomUUID();
  const sites = req.sites.map((s) => siteKey(s));
  await createRun(deps.db, { id: runId, trigger: req.trigger, dryRun: req.dryRun, sites, mode: 'reconcile', approveDeletes: req.approveDeletes, now: new Date() });
  await deps.controlQueue.add(
    'resync',
    { type: 'resync', runId, sites, dryRun: req.dryRun, approveDeletes: req.approveDeletes },
    { jobId: `resync-${runId}`, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
  );
  return { runId, href: `/api/runs/${runId}` };
}
