import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { SiteKey } from '../domain/site.js';
import type { ControlEnqueuer } from '../sync/ports/control.js';
import type { ControlJobData } from './jobs.js';

/**
 * Producers of the control queue (beside ./producer.ts, the operations queue's): every control job but the
 * job schedulers' (./schedulers.ts) is added here. Job data and job ids are described in ./jobs.ts.
 */

/** A control queue's jobs kept after failing, for operators (bull-board). */
const KEEP_FAILED = { count: 100 };

/**
 * The job id of a notified change plan: `changes-<sha256 of the sorted distinct CRM site ids, 24 hex>-<unix s>`.
 * Processes notified of the same sites within the same second get one id, so BullMQ adds one job for them
 * (it ignores an add whose id is stored); the next second's notification gets a job of its own.
 */
export function notifiedChangesJobId(crmSiteIds: readonly string[], nowMs: number): string {
  const id = createHash('sha256').update(sortedDistinct(crmSiteIds).join('\n')).digest('hex').slice(0, 24);
  return `changes-${id}-${Math.floor(nowMs / 1000)}`;
}

const sortedDistinct = (ids: readonly string[]) => [...new Set(ids)].sort();

/** Queues one change plan of notified CRM sites (sync/notifications.ts); see {@link notifiedChangesJobId}. */
export async function enqueueNotifiedChanges(queue: Queue<ControlJobData>, crmSiteIds: readonly string[], nowMs: number = Date.now()): Promise<void> {
  await queue.add('changes', { type: 'changes', crmSiteIds: sortedDistinct(crmSiteIds) }, { jobId: notifiedChangesJobId(crmSiteIds, nowMs), removeOnComplete: true, removeOnFail: KEEP_FAILED });
}

/** Queues a change tick now (after the CRM listener reconnected: notifications sent meanwhile are lost). */
export async function enqueueChangeTick(queue: Queue<ControlJobData>): Promise<void> {
  await queue.add('tick', { type: 'tick' }, { removeOnComplete: true, removeOnFail: KEEP_FAILED });
}

/**
 * Queues the change tick of a repair (recovery/watchdog.ts: a job scheduler was missing). One job id per 10 s
 * (`recover-tick-<unix ms / 10,000>`): processes noticing together add one tick.
 */
export async function enqueueRecoveryTick(queue: Queue<ControlJobData>, nowMs: number = Date.now()): Promise<void> {
  await queue.add('tick', { type: 'tick' }, { jobId: `recover-tick-${Math.floor(nowMs / 10_000)}`, removeOnComplete: true, removeOnFail: KEEP_FAILED });
}

/** Queues the plan of a resync whose run row exists; job id `resync-<runId>`, kept (100 completed, 100 failed). */
export async function enqueueResync(queue: Queue<ControlJobData>, job: { runId: string; sites: readonly SiteKey[]; dryRun: boolean; approveDeletes: boolean }): Promise<void> {
  await queue.add(
    'resync',
    { type: 'resync', runId: job.runId, sites: job.sites, dryRun: job.dryRun, approveDeletes: job.approveDeletes },
    { jobId: `resync-${job.runId}`, removeOnComplete: { count: 100 }, removeOnFail: KEEP_FAILED },
  );
}

/** sync/'s {@link ControlEnqueuer} over `queue`. */
export function createControlEnqueuer(queue: Queue<ControlJobData>): ControlEnqueuer {
  return { enqueueResync: (job) => enqueueResync(queue, job) };
}
