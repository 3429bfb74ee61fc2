import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { ApplyResult } from '../sync/applyOperation.js';
import { runOperation, type LifecycleDeps } from '../sync/runOperation.js';
import type { OperationJobData } from './jobs.js';

/**
 * The queue edge of operation jobs: hands each job to the lifecycle (sync/runOperation.ts) and turns what it came
 * to into BullMQ's mechanics (docs/RETRIES.md):
 * - `done`: the job completes with the result (no personal data in it);
 * - `wait`: the job is delayed (`moveToDelayed` + `DelayedError`, which keeps its attempts);
 * - `handed_back`: `Worker.RateLimitError()`, which sends it back to waiting without counting an attempt (the
 *   queue itself was rate limited through `rateLimitQueue`);
 * - `retry`: the error is thrown, so BullMQ retries with the backoff of queue/backoff.ts;
 * - `failed`: `UnrecoverableError`, so BullMQ gives up at once.
 */

/** Settings of {@link createOperationProcessor}: the lifecycle's, plus the job's lock and the queue's rate limit. */
export interface ProcessorOptions extends Omit<LifecycleDeps, 'handBack'> {
  /**
   * Whether the worker still holds the job's lock under `token` (./fence.ts `holdsJobLock`). Default: always
   * (no fencing; tests of the processor alone).
   */
  readonly ownsJob?: (job: Job<OperationJobData>, token: string) => Promise<boolean>;
  /** Stops every worker of the queue for `ms` (BullMQ `queue.rateLimit`). Default: none (the job is retried with backoff). */
  readonly rateLimitQueue?: (ms: number) => Promise<void>;
}

/** Builds the BullMQ processor function for the operations queue. */
export function createOperationProcessor(options: ProcessorOptions): (job: Job<OperationJobData>, token?: string) => Promise<ApplyResult & { passes: number }> {
  const { ownsJob, rateLimitQueue, ...rest } = options;
  const deps: LifecycleDeps = rateLimitQueue ? { ...rest, handBack: rateLimitQueue } : rest;
  return async (job, token) => {
    const outcome = await runOperation(deps, {
      operation: { ...job.data, opKey: String(job.id), enqueuedAt: job.timestamp },
      attempt: job.attemptsMade + 1,
      // Any earlier start may have reached CHeKT: a retry, a stalled job taken over, a job handed back after a 429.
      earlierTry: job.attemptsStarted > 1 || job.attemptsMade > 0,
      ...(token && ownsJob ? { holdsJob: () => ownsJob(job, token) } : {}),
    });
    switch (outcome.type) {
      case 'done':
        return outcome.result;
      case 'wait':
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        throw new DelayedError();
      case 'handed_back':
        throw Worker.RateLimitError();
      case 'retry':
        throw outcome.error;
      case 'failed':
        throw new UnrecoverableError(outcome.reason);
    }
  };
}
