import pMap from 'p-map';
import type { JobState, OperationJobs, OrphanRepair } from './ports/orphans.js';

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
export async function requeueOrphans(repair: OrphanRepair, runId: string, options: { confirmAfterMs?: number } = {}): Promise<number> {
  const first = await orphans(repair.jobs, await repair.listQueued(runId));
  if (first.size === 0) return 0;
  await new Promise((r) => setTimeout(r, options.confirmAfterMs ?? 2000));
  const second = await orphans(repair.jobs, await repair.listQueued(runId));
  const again = [...second.keys()].filter((k) => first.has(k));
  if (again.length === 0) return 0;
  const keys = new Set(again);
  await pMap(again, async (k) => (first.get(k) === 'unknown' && second.get(k) === 'unknown' ? repair.jobs.remove(k) : undefined), { concurrency: 64 });
  const ops = (await repair.listQueued(runId)).filter((o) => keys.has(o.opKey));
  await repair.jobs.enqueue(runId, ops);
  return ops.length;
}

/** The orphaned job ids among `ops`, with the state each was found in. */
async function orphans(jobs: OperationJobs, ops: ReadonlyArray<{ opKey: string }>): Promise<Map<string, JobState>> {
  const out = new Map<string, JobState>();
  await pMap(
    ops,
    async ({ opKey }) => {
      const state = await jobs.stateOf(opKey);
      if (state === 'unknown' || state === 'completed' || state === 'failed') out.set(opKey, state);
    },
    { concurrency: 256 },
  );
  return out;
}
