import type { Queue } from 'bullmq';
import pMap from 'p-map';
import type { OperationJobData } from '../queue/jobs.js';
import { enqueueOperations, type OperationJobOptions } from '../queue/producer.js';
import type { PrismaClient } from '../source/db.js';
import { listQueuedOperations } from '../source/runs.js';

/**
 * Enqueues again a run's queued operations that no job will settle: their job was lost (the queue is a cache
 * of work: a Redis flush or a restart without persistence loses it), or it finished after reading CRM data
 * older than this run saw (the run joined it while it ran). Jobs still waiting, delayed or active are left
 * alone. An operation counts only when it is orphaned at two checks `confirmAfterMs` apart (default 2000 ms),
 * because a run records its operations just before it enqueues their jobs.
 * A job in no state at all whose hash is still stored (Redis evicted the list entry but not the hash) would make
 * BullMQ ignore the new add as a duplicate, so such a leftover hash is removed first.
 * Returns the number of operations enqueued again.
 */
export async function requeueOrphans(
  db: PrismaClient,
  queue: Queue<OperationJobData>,
  runId: string,
  options: { jobOptions: OperationJobOptions; confirmAfterMs?: number },
): Promise<number> {
  const first = await orphans(queue, await listQueuedOperations(db, runId));
  if (first.size === 0) return 0;
  await new Promise((r) => setTimeout(r, options.confirmAfterMs ?? 2000));
  const second = await orphans(queue, await listQueuedOperations(db, runId));
  const again = [...second.keys()].filter((k) => first.has(k));
  if (again.length === 0) return 0;
  const keys = new Set(again);
  await pMap(again, async (k) => (first.get(k) === 'unknown' && second.get(k) === 'unknown' ? queue.remove(k) : 0), { concurrency: 64 });
  const ops = (await listQueuedOperations(db, runId)).filter((o) => keys.has(o.opKey));
  await enqueueOperations(queue, runId, ops, options.jobOptions);
  return ops.length;
}

/** The orphaned job ids among `ops`, with the state each was found in. */
async function orphans(queue: Queue<OperationJobData>, ops: ReadonlyArray<{ opKey: string }>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await pMap(
    ops,
    async ({ opKey }) => {
      const state = await queue.getJobState(opKey);
      if (state === 'unknown' || state === 'completed' || state === 'failed') out.set(opKey, state);
    },
    { concurrency: 256 },
  );
  return out;
}
