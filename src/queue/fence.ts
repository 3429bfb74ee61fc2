import type { Job } from 'bullmq';
import type { RedisClient as Redis } from './connection.js';

/**
 * Fencing of operation jobs (docs/RETRIES.md "Fencing"). BullMQ delivers a job at least once: a worker whose
 * process froze (SIGSTOP, a VM pause, an event loop blocked past `lockDuration`, 30 s) loses its lock, the stalled
 * check hands the job to another worker, and the first one may wake up in the middle of its attempt. Before every
 * CHeKT write and every ledger write, the worker checks that the job's lock still holds its own token; a worker
 * that lost it drops the attempt without writing.
 *
 * The lock is BullMQ's `<prefix>:<queue>:<jobId>:lock` key, whose value is the token of the worker that holds the
 * job; BullMQ's own scripts compare it the same way before completing or failing a job.
 */

/** Thrown instead of a write when another worker holds the job now (declared by the lifecycle's ports). */
export { JobLockLostError } from '../sync/ports/operations.js';

/** Whether `token` still holds the lock of `job` (one Redis GET). */
export async function holdsJobLock(redis: Redis, job: Pick<Job, 'id' | 'queueQualifiedName'>, token: string): Promise<boolean> {
  return (await redis.get(`${job.queueQualifiedName}:${job.id}:lock`)) === token;
}
