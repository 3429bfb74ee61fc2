import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import type { OperationJobData } from '../queue/jobs.js';
import type { PrismaClient } from '../source/db.js';
import { countQueued, getRun, type RunReport } from '../source/runs.js';
import { reapLostOperations } from './reapLost.js';

/**
 * Waits until a run has no queued operation left (every job it caused finished, by whichever worker),
 * polling the run's operations in PostgreSQL every `pollMs` (default 500 ms).
 * `onProgress(queued)` is called after each poll. When nothing has finished for `stallCheckMs` (default 30 s),
 * operations whose job vanished from Redis are settled as failed (sync/reapLost.ts) so the wait ends.
 * Throws when `timeoutMs` (default 1 h) passes first.
 */
export async function waitForRun(
  db: PrismaClient,
  queue: Queue<OperationJobData>,
  runId: string,
  options: { pollMs?: number; timeoutMs?: number; stallCheckMs?: number; confirmLostAfterMs?: number; onProgress?: (queued: number) => void } = {},
): Promise<RunReport> {
  const deadline = Date.now() + (options.timeoutMs ?? 3_600_000);
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const queued = await countQueued(db, runId);
    options.onProgress?.(queued);
    if (queued === 0) break;
    if (queued !== last) {
      last = queued;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > (options.stallCheckMs ?? 30_000)) {
      await reapLostOperations(db, queue, runId, { now: () => new Date(), ...(options.confirmLostAfterMs !== undefined ? { confirmAfterMs: options.confirmLostAfterMs } : {}) });
      lastChange = Date.now();
    }
    if (Date.now() > deadline) throw new Error(`run ${runId} still has ${queued} queued operations after ${options.timeoutMs} ms`);
    await sleep(options.pollMs ?? 500);
  }
  const report = await getRun(db, runId);
  if (!report) throw new Error(`run ${runId} not found`);
  return report;
}
