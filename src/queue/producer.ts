import type { Queue } from 'bullmq';
import pMap from 'p-map';
import type { PlannedOperation } from '../domain/plan.js';
import type { EnqueueCounts } from '../domain/runSummary.js';
import type { OperationEnqueuer } from '../sync/ports/planner.js';
import { BACKOFF_TYPE, RETRY_FOREVER, STACK_TRACE_LIMIT } from './backoff.js';
import type { OperationJobs } from '../sync/ports/orphans.js';
import { toJobData, type OperationJobData } from './jobs.js';
import { siteKey } from '../domain/site.js';

/**
 * Enqueues planned operations under their deterministic job ids (domain/opKey.ts).
 *
 * BullMQ ignores an add whose id is still stored (docs/PLATFORM.md#bullmq), so each id is checked first:
 * - waiting, delayed, prioritized or active: the pending job already covers this contact; the worker reads
 *   the current CRM row when it runs, so nothing is lost. Counted as `joined`.
 * - completed, or failed (a failure is kept for operators until the next plan wants the contact again):
 *   removed and added anew.
 * - absent: added.
 */

/**
 * Job options. A job retries transient failures for as long as it exists, with capped exponential backoff and
 * full jitter (queue/backoff.ts, docs/RETRIES.md); the cap is the workers' setting.
 */
export interface OperationJobOptions {
  /** First backoff window in ms (config `SYNC_BACKOFF_MS`, default 2000), doubled per attempt up to the cap. */
  readonly backoffMs: number;
}

/** The planner's {@link OperationEnqueuer} over `queue` (sync/ports/planner.ts). */
export function createOperationEnqueuer(queue: Queue<OperationJobData>, options: OperationJobOptions): OperationEnqueuer {
  return { enqueue: (runId, operations, approveDeletes) => enqueueOperations(queue, runId, operations, options, { approveDeletes }) };
}

/** Adds one job per operation; see the module comment for ids already stored. */
export async function enqueueOperations(
  queue: Queue<OperationJobData>,
  runId: string,
  operations: readonly PlannedOperation[],
  options: OperationJobOptions,
  extra: { approveDeletes?: ReadonlySet<string> } = {},
): Promise<EnqueueCounts> {
  let joined = 0;
  let replaced = 0;
  const toAdd: PlannedOperation[] = [];
  // Many state checks in flight at once: ioredis pipelines them on one connection (one round trip per batch
  // instead of one per job).
  await pMap(
    operations,
    async (op) => {
      const state = await queue.getJobState(op.opKey);
      if (state === 'completed' || state === 'failed') {
        const removed = await queue.remove(op.opKey);
        if (removed === 1) replaced += 1;
        toAdd.push(op);
      } else if (state === 'unknown') {
        toAdd.push(op);
      } else {
        joined += 1;
      }
    },
    { concurrency: 256 },
  );
  for (let i = 0; i < toAdd.length; i += 1000) await addChunk(queue, runId, toAdd.slice(i, i + 1000), options, extra);
  return { added: toAdd.length - replaced, joined, replaced };
}

async function addChunk(
  queue: Queue<OperationJobData>,
  runId: string,
  toAdd: readonly PlannedOperation[],
  options: OperationJobOptions,
  extra: { approveDeletes?: ReadonlySet<string> },
): Promise<void> {
  await queue.addBulk(
    toAdd.map((op) => ({
      name: op.kind,
      data: toJobData(runId, op, extra.approveDeletes?.has(siteKey(op)) ?? false),
      opts: {
        jobId: op.opKey,
        attempts: RETRY_FOREVER,
        backoff: { type: BACKOFF_TYPE, delay: options.backoffMs },
        stackTraceLimit: STACK_TRACE_LIMIT,
        removeOnComplete: { age: 24 * 3600, count: 1000 },
        removeOnFail: false,
      },
    })),
  );
}

/**
 * The operation jobs of `queue` as the orphan repair sees them (sync/ports/orphans.ts): states by job id, removal,
 * and enqueueing with `options` ({@link enqueueOperations}).
 */
export function operationJobs(queue: Queue<OperationJobData>, options: OperationJobOptions): OperationJobs {
  return {
    stateOf: (opKey) => queue.getJobState(opKey),
    remove: async (opKey) => {
      await queue.remove(opKey);
    },
    enqueue: async (runId, operations) => {
      await enqueueOperations(queue, runId, operations, options);
    },
  };
}
