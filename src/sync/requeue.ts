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
  const again = [...(await orphans(queue, await listQueuedOperations(db, runId)))].filter((k) => first.has(k));
  if (again.length === 0) return 0;
  const keys = new Set(again);
  const ops = (await listQueuedOperations(db, runId)).filter((o) => keys.has(o.opKey));
  await enqueueOperations(queue, runId, ops, options.jobOptions);
  return ops.length;
}

async function orphans(queue: Queue<OperationJobData>, ops: ReadonlyArray<{ opKey: string }>): Promise<Set<string>> {
  const out = new Set<string>();
  await pMap(
    ops,
    async ({ opKey }) => {
      const state = await queue.getJobState(opKey);
      if (state === 'unknown' || state === 'completed' || state === 'failed') out.add(opKey);
    },
    { concurrency: 256 },
  );
  return out;
}
