import type { App } from '../app.js';
import { countFailed } from '../source/readModel/runs.js';
import { startRun, type StartRunRequest } from '../sync/startRun.js';
import { waitForRun } from '../sync/waitForRun.js';
import { toJsonReport, type JsonRunReport } from '../domain/runReport.js';

/**
 * A manual resync: plans the sites, executes unless dry run, and waits until every operation it caused has
 * finished, whoever's workers run them. When no worker is connected to the operations queue (the service is
 * not running), this process starts its own and stops them afterwards. `onProgress(done, total, failed)` is
 * called after each poll of the run's operations (not for a dry run).
 */
export async function runSync(app: App, req: StartRunRequest & { timeoutMs?: number; onProgress?: (done: number, total: number, failed: number) => void }): Promise<JsonRunReport> {
  // Workers elsewhere (the service, another CLI) may stop while this run waits: check again when it stalls.
  const ensureWorkers = async () => {
    if (req.dryRun || app.workers.length > 0) return;
    if ((await app.countOperationWorkers().catch(() => 0)) > 0) return;
    app.logger.info('no worker is connected to the operations queue; running workers in this process');
    await app.startWorkers({ control: false });
  };
  await ensureWorkers();
  const { runId, summary } = await startRun(app.planDeps, req);
  const total = summary.totals.creates + summary.totals.updates + summary.totals.deletes - summary.totals.held;
  let lastQueued = -1;
  let failed = 0;
  const report = await waitForRun(app.db, app.operationsQueue, runId, {
    jobOptions: app.jobOptions,
    ensureWorkers,
    ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
    onProgress: async (queued) => {
      if (req.dryRun || total === 0 || !req.onProgress) return;
      // Failures are counted only when something finished since the last poll.
      if (queued !== lastQueued) failed = await countFailed(app.db, runId);
      lastQueued = queued;
      req.onProgress(total - queued, total, failed);
    },
  });
  return toJsonReport(report);
}
