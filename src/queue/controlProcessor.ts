import type { Job } from 'bullmq';
import { parseSiteKey } from '../domain/site.js';
import { runChangeTick, runNotifiedChanges, runResync, runScheduledReconcile, type ControlDeps, type ControlOutcome } from '../sync/control.js';
import type { ControlJobData } from './jobs.js';

/**
 * The control worker's processor: each control job (./jobs.ts) to its use case (sync/control.ts). Thin: it reads
 * the job's data and returns the use case's outcome (BullMQ keeps it as the job's return value); a use case that
 * throws fails the job.
 */
export function createControlProcessor(deps: ControlDeps): (job: Job<ControlJobData>) => Promise<ControlOutcome> {
  return async (job) => {
    const data = job.data;
    switch (data.type) {
      case 'tick':
        return runChangeTick(deps);
      case 'changes':
        return runNotifiedChanges(deps, data.crmSiteIds);
      case 'reconcile':
        return runScheduledReconcile(deps);
      case 'resync':
        return runResync(deps, { runId: data.runId, sites: data.sites.map(parseSiteKey), dryRun: data.dryRun, approveDeletes: !!data.approveDeletes });
    }
  };
}
