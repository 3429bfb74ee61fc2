import { setTimeout as sleep } from 'node:timers/promises';
import type { PrismaClient } from '../source/db.js';
import { countQueued, getRun, type RunReport } from '../source/runs.js';

/**
 * Waits until a run has no queued operation left (every job it caused finished, by whichever worker),
 * polling the run's operations in PostgreSQL every `pollMs` (default 500 ms).
 * `onProgress(queued)` is called after each poll. Throws when `timeoutMs` (default 1 h) passes first.
 */
export async function waitForRun(
  db: PrismaClient,
  runId: string,
  options: { pollMs?: number; timeoutMs?: number; onProgress?: (queued: number) => void } = {},
): Promise<RunReport> {
  const deadline = Date.now() + (options.timeoutMs ?? 3_600_000);
  for (;;) {
    const queued = await countQueued(db, runId);
    options.onProgress?.(queued);
    if (queued === 0) break;
    if (Date.now() > deadline) throw new Error(`run ${runId} still has ${queued} queued operations after ${options.timeoutMs} ms`);
    await sleep(options.pollMs ?? 500);
  }
  const report = await getRun(db, runId);
  if (!report) throw new Error(`run ${runId} not found`);
  return report;
}
