import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import type { OperationJobData } from '../queue/jobs.js';
import type { PrismaClient } from '../source/db.js';
import type { RunView } from '../domain/runReport.js';
import { readRun } from '../source/readModel/runs.js';
import { completeRunsIfDone, countQueued, listQueuedOperations } from '../source/runs.js';
import { operationJobs, type OperationJobOptions } from '../queue/producer.js';
import { requeueOrphans } from './requeue.js';

/**
 * Waits until a run has no queued operation left (every job it caused finished, by whichever worker),
 * polling the run's operations in PostgreSQL every `pollMs` (default 500 ms).
 * `onProgress(queued)` is called (and awaited) after each poll. When nothing has finished for `stallCheckMs` (default 10 s),
 * `ensureWorkers()` is called (the workers this run relied on may have gone) and operations no job will
 * settle are enqueued again (sync/requeue.ts). Throws when `timeoutMs` (default 1 h) passes first.
 */
export async function waitForRun(
  db: PrismaClient,
  queue: Queue<OperationJobData>,
  runId: string,
  options: {
    jobOptions: OperationJobOptions;
    pollMs?: number;
    timeoutMs?: number;
    stallCheckMs?: number;
    confirmOrphanAfterMs?: number;
    ensureWorkers?: () => Promise<void>;
    onProgress?: (queued: number) => void | Promise<void>;
  },
): Promise<RunView> {
  const deadline = Date.now() + (options.timeoutMs ?? 3_600_000);
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const queued = await countQueued(db, runId);
    await options.onProgress?.(queued);
    if (queued === 0) break;
    if (queued !== last) {
      last = queued;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > (options.stallCheckMs ?? 10_000)) {
      await options.ensureWorkers?.();
      const repair = { listQueued: (id: string) => listQueuedOperations(db, id), jobs: operationJobs(queue, options.jobOptions) };
      await requeueOrphans(repair, runId, options.confirmOrphanAfterMs !== undefined ? { confirmAfterMs: options.confirmOrphanAfterMs } : {});
      lastChange = Date.now();
    }
    if (Date.now() > deadline) throw new Error(`run ${runId} still has ${queued} queued operations after ${options.timeoutMs} ms`);
    await sleep(options.pollMs ?? 500);
  }
  // The worker that settled the last operation completes the run in a second statement; do it here too so
  // the report never shows a finished run as still running.
  await completeRunsIfDone(db, [runId], new Date());
  const report = await readRun(db, runId);
  if (!report) throw new Error(`run ${runId} not found`);
  return report;
}
