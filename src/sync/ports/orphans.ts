import type { PlannedOperation } from '../../domain/plan.js';

/**
 * What the repair of orphaned operations (sync/requeue.ts) needs: the runs' queued operations (PostgreSQL, the
 * truth; source/runs.ts `listQueuedOperations`) and the operation jobs (Redis, a cache of that work;
 * queue/producer.ts `operationJobs`).
 */

/** A job's state as BullMQ names it (`unknown`: no such job is stored). */
export type JobState = 'completed' | 'failed' | 'delayed' | 'active' | 'waiting' | 'waiting-children' | 'prioritized' | 'unknown';

/** The operation jobs in the queue, by job id (`op_key`). */
export interface OperationJobs {
  stateOf(opKey: string): Promise<JobState>;
  /** Removes whatever is stored under the id (a job, or a hash left without its list entry). */
  remove(opKey: string): Promise<void>;
  /** Enqueues a run's operations under their job ids (queue/producer.ts `enqueueOperations`). */
  enqueue(runId: string, operations: readonly PlannedOperation[]): Promise<void>;
}

/** The two sides {@link OperationJobs} and the run's queued operations. */
export interface OrphanRepair {
  /** A run's operations still queued (at most 10,000). */
  listQueued(runId: string): Promise<PlannedOperation[]>;
  readonly jobs: OperationJobs;
}
