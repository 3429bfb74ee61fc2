import type { Queue } from 'bullmq';
import type { OperationJobData } from '../queue/jobs.js';
import type { PrismaClient } from '../source/db.js';
import { finishOperation, listQueuedOperations } from '../source/runs.js';

/**
 * Settles a run's queued operations whose job no longer exists in Redis (the queue is a cache of work: a
 * Redis flush or restart without persistence loses jobs). Such an operation is marked failed with the reason
 * "job lost", so the run can finish and the CLI does not wait forever; the next run plans the contact again.
 *
 * An operation counts as lost only when its job is missing at two checks `confirmAfterMs` apart (default
 * 5000 ms), since a run records its operations just before it enqueues their jobs.
 * Returns the number of operations settled.
 */
export async function reapLostOperations(
  db: PrismaClient,
  queue: Queue<OperationJobData>,
  runId: string,
  options: { confirmAfterMs?: number; now: () => Date },
): Promise<number> {
  const missing = await findMissing(queue, await listQueuedOperations(db, runId));
  if (missing.length === 0) return 0;
  await new Promise((r) => setTimeout(r, options.confirmAfterMs ?? 5000));
  const still = await findMissing(queue, missing);
  for (const opKey of still) {
    await finishOperation(db, {
      opKey,
      outcome: 'failed',
      appliedKind: 'none',
      error: 'job lost from the queue (Redis lost it); the next run plans this contact again',
      attempts: 0,
      now: options.now(),
    });
  }
  return still.length;
}

async function findMissing(queue: Queue<OperationJobData>, opKeys: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const key of opKeys) if ((await queue.getJobState(key)) === 'unknown') out.push(key);
  return out;
}
