import type { Job, Queue, Worker } from 'bullmq';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import type { OperationJobData } from '../queue/jobs.js';
import { enqueueOperations, type OperationJobOptions } from '../queue/producer.js';
import type { PrismaClient } from '../source/db.js';
import { newestQueuedByOpKey } from '../source/runs.js';
import { siteKey } from '../domain/site.js';

/**
 * Operation jobs whose data Redis no longer holds. When Redis evicts (or someone deletes) a job's hash while its id
 * is still in the wait list, BullMQ moves the id to active anyway and recreates the hash with only its own
 * bookkeeping fields, so the processor receives `{}`: no dealer, no site, no `external_contact_id`. Such a job is
 * never applied and never writes to the ledger or the run (docs/OPERATIONS-FAULTS.md#redis-that-evicts-keys-and-job-data-it-could-not-keep: it used to fail on a null
 * `chekt_dealer_id`). It completes as `dropped`, and the job is rebuilt from PostgreSQL, the truth: the newest
 * `queued` operation of its job id (the id survives, since it is the list entry) is enqueued again.
 */

/** What a job's data must hold before anything reads the CRM or writes PostgreSQL for it. */
const operationJobData = z.object({
  runId: z.string().min(1),
  kind: z.enum(['create', 'update', 'delete']),
  reason: z.string().min(1),
  dealerId: z.string().min(1),
  siteId: z.string().min(1),
  crmSiteId: z.string(),
  externalContactId: z.string().min(1),
  chektContactId: z.string().nullable(),
  approveDeletes: z.boolean().optional(),
});

/** True when `data` is a whole {@link OperationJobData}. */
export function isReadableOperationData(data: unknown): data is OperationJobData {
  return operationJobData.safeParse(data).success;
}

/** The return value of a dropped job (also counted as `chekt_sync_operations_total{outcome="dropped"}`). */
export interface DroppedResult {
  readonly outcome: 'dropped';
  readonly appliedKind: 'unknown';
  readonly passes: 0;
}

/**
 * Wraps the operation processor: a job whose data is not a whole {@link OperationJobData} is logged and
 * completed as {@link DroppedResult} without calling `processor`. Pair with {@link repairDroppedJobs}.
 */
export function guardOperationData<R>(
  processor: (job: Job<OperationJobData>, token?: string) => Promise<R>,
  logger: Logger,
): (job: Job<OperationJobData>, token?: string) => Promise<R | DroppedResult> {
  return async (job, token) => {
    if (isReadableOperationData(job.data)) return processor(job, token);
    logger.error(
      { jobId: job.id, fields: Object.keys((job.data ?? {}) as object) },
      'operation job data unreadable (evicted or deleted from Redis); dropped without writing, rebuilding it from PostgreSQL',
    );
    return { outcome: 'dropped', appliedKind: 'unknown', passes: 0 };
  };
}

/**
 * Once a dropped job has completed (so its id is free), enqueues again the newest queued operation of its job id
 * from PostgreSQL (nothing when none is queued). Errors are logged; the recovery loop's lost-job repair
 * (./watchdog.ts) catches what this misses.
 */
export function repairDroppedJobs(
  worker: Worker<OperationJobData>,
  deps: { db: PrismaClient; queue: Queue<OperationJobData>; jobOptions: OperationJobOptions; logger: Logger; onRepaired?: () => void },
): void {
  worker.on('completed', (job, result: unknown) => {
    if ((result as { outcome?: unknown } | null)?.outcome !== 'dropped' || !job.id) return;
    const opKey = job.id;
    void (async () => {
      const found = await newestQueuedByOpKey(deps.db, opKey);
      if (!found) return;
      const site = siteKey(found.operation);
      await enqueueOperations(deps.queue, found.runId, [found.operation], deps.jobOptions, found.approveDeletes ? { approveDeletes: new Set([site]) } : {});
      deps.onRepaired?.();
      deps.logger.warn({ jobId: opKey, runId: found.runId }, 'operation job rebuilt from PostgreSQL');
    })().catch((err: unknown) => deps.logger.error({ err, jobId: opKey }, 'cannot rebuild a dropped operation job; the recovery loop will'));
  });
}
