import type { BackoffStrategy } from 'bullmq';
import { ChektCancelledError, ChektRateLimitedError } from '../chekt/errors/index.js';
import { backoffDelayMs, type BackoffPolicy } from '../domain/backoff.js';

/**
 * BullMQ's side of the retry policy (docs/RETRIES.md): operation jobs are added with `attempts`
 * {@link RETRY_FOREVER} and `backoff: { type: BACKOFF_TYPE, delay: SYNC_BACKOFF_MS }`, and every worker registers
 * {@link createBackoffStrategy} as its `settings.backoffStrategy`. Permanent errors end a job with
 * `UnrecoverableError` (./operationWorker.ts); everything else waits and tries again.
 */

/** Name of the custom backoff type (BullMQ `backoff.type`). */
export const BACKOFF_TYPE = 'capped-full-jitter';

/**
 * `attempts` of an operation job: transient failures never use them up (2^31 − 1: at one attempt per
 * minute, thousands of years). Redis stays bounded because each job keeps only its last
 * {@link STACK_TRACE_LIMIT} stack traces and one failed reason.
 */
export const RETRY_FOREVER = 2 ** 31 - 1;

/** Stack traces kept per job (BullMQ `stackTraceLimit`; unbounded by default, which a long outage would grow). */
export const STACK_TRACE_LIMIT = 3;

/**
 * The BullMQ backoff strategy: `domain/backoff.ts` with the job's `backoff.delay` as base and `capMs` as cap. A
 * 429's `Retry-After` is a floor; a job cut by shutdown is retried at once (0) by another worker.
 */
export function createBackoffStrategy(capMs: number, random: () => number = Math.random): BackoffStrategy {
  return (attemptsMade, _type, err, job) => {
    if (err instanceof ChektCancelledError) return 0;
    const delay = job?.opts.backoff;
    const baseMs = typeof delay === 'object' && typeof delay.delay === 'number' ? delay.delay : capMs;
    const policy: BackoffPolicy = { baseMs, capMs };
    const floor = err instanceof ChektRateLimitedError ? (err.retryAfterMs ?? 0) : 0;
    return backoffDelayMs(attemptsMade ?? 1, policy, random, floor);
  };
}
