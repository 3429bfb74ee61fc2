import { expect, test } from '@jest/globals';
import { startRun } from '../../src/sync/startRun.js';
import { waitForRun } from '../../src/sync/waitForRun.js';
import { committedWrites, compareWithCrm, generateCrm, pollUntil } from './support/convergence.js';
import { createHarness, seedCrm, testEnv, type Harness } from './support/harness.js';
import { serviceEnv, freePort, startNode, startWorkerProcess, useChildren } from './support/processes.js';
import { waitExit } from './support/spawn.js';

/**
 * docs/SAFETY.md guarantee 9: jobs cut off while running. A worker process SIGKILLed mid-backlog (CHeKT slow and dropping
 * 10 % of write answers), and the service stopped with SIGTERM while its jobs wait on CHeKT for longer than
 * SHUTDOWN_TIMEOUT_MS. Either way the running jobs stay `active` in Redis until their lock expires (BullMQ
 * lockDuration, 30 s, renewed every 15 s); BullMQ's stalled-job check (every 30 s, once per queue) then moves them
 * back to waiting, and another worker runs them again. Each may have reached CHeKT already, so the run must still
 * end with one copy per contact.
 *
 * Each test waits about 60 s on BullMQ's own timers (a new worker's first stalled check is blocked by the dead
 * worker's, the next one marks the jobs, the one after moves them), so this file is apart from
 * faults-crash.test.ts and its two tests run concurrently, each with its own harness.
 */

const children = useChildren();

/** Waits for a run with the waiter's re-enqueue on (stall check 5 s), for up to 100 s. */
function waitLong(h: Harness, runId: string) {
  return waitForRun(h.app.db, h.app.operationsQueue, runId, { jobOptions: h.app.jobOptions, pollMs: 200, stallCheckMs: 5000, confirmOrphanAfterMs: 500, timeoutMs: 100_000 });
}

/** CHeKT holds exactly the CRM's `valid` contacts, each committed once, and `stalled` jobs came back through the stalled check. */
async function expectConverged(h: Harness, valid: number, stalled: number): Promise<void> {
  const cmp = await compareWithCrm(h.app.db, h.sandbox);
  expect(cmp.duplicates).toEqual([]);
  expect(cmp.mismatches).toEqual([]);
  expect(cmp.inChekt).toBe(valid);
  // One committed create per contact: a job cut off after CHeKT committed its create looked it up before sending.
  expect(committedWrites(h.sandbox).POST).toBe(valid);
  // The run completes in PostgreSQL inside the last job, just before BullMQ marks that job completed: wait for it.
  await pollUntil('every job completed in Redis', async () => (await h.app.operationsQueue.getJobCounts('completed')).completed === valid, { timeoutMs: 10_000, intervalMs: 50 }).catch(
    () => undefined,
  );
  const jobs = await h.app.operationsQueue.getJobs(['completed'], 0, -1);
  expect(jobs).toHaveLength(valid);
  expect(jobs.filter((j) => j.stalledCounter > 0)).toHaveLength(stalled);
}

test.concurrent(
  'SIGKILL of a worker process mid-backlog: its jobs are run again by a new worker, CHeKT ends equal, no duplicate',
  async () => {
    const env = { WORKER_CONCURRENCY: '8', LOG_LEVEL: 'info' };
    const h = await createHarness('fkill', { sandbox: { seed: 61 }, env });
    try {
      const valid = 297; // of 300: contacts 96, 193 and 290 have a blank first name
      const data = generateCrm({ sites: 30, contacts: 300, idPrefix: 'k' });
      await seedCrm(h, data.sites, data.contacts);
      h.sandbox.setFaults({ latencyMs: 100, dropAfterCommitRate: 0.1 });
      const first = await startWorkerProcess(h, env, children);
      // Planned here, with no worker in this process: only the child runs the jobs.
      const { runId, summary } = await startRun(h.app.planDeps, { trigger: 'cli', sites: [], dryRun: false });
      expect(summary.totals.creates).toBe(valid);

      const settled = () => h.app.db.syncOperation.count({ where: { runId, outcome: { not: 'queued' } } });
      await pollUntil('30 % of the operations done', async () => (await settled()) >= 0.3 * valid, { timeoutMs: 60_000, intervalMs: 50 });
      first.kill('SIGKILL');
      const killed = await waitExit(first, 10_000);
      expect(killed.code).toBeNull(); // killed by the signal
      // The dead worker's jobs are still `active`, locked until their lock expires.
      const activeAtKill = (await h.app.operationsQueue.getJobCounts('active')).active ?? 0;
      expect(activeAtKill).toBeGreaterThan(0);
      expect(activeAtKill).toBeLessThanOrEqual(8);
      expect(await settled()).toBeLessThan(valid);

      const second = await startWorkerProcess(h, env, children);
      const report = await waitLong(h, runId);
      expect(report.status).toBe('completed');
      expect(report.failures).toEqual([]);
      expect(report.counts).toEqual({ create: { succeeded: valid } });
      await expectConverged(h, valid, activeAtKill);

      second.kill('SIGTERM');
      expect((await waitExit(second, 30_000)).code).toBe(0);
    } finally {
      await h.close();
    }
  },
  150_000,
);

test.concurrent(
  'SIGTERM with jobs running past SHUTDOWN_TIMEOUT_MS: exits 0 on time, and the cut jobs are retried by another worker',
  async () => {
    const h = await createHarness('ftermcut', { sandbox: { seed: 71 }, env: { LOG_LEVEL: 'warn' } });
    try {
      const data = generateCrm({ sites: 2, contacts: 12, idPrefix: 'cut' });
      await seedCrm(h, data.sites, data.contacts);
      // CHeKT holds each request 10 s; the service gives running jobs 1 s.
      h.sandbox.setFaults({ latencyMs: 10_000 });
      const shutdownTimeoutMs = 1000;
      const port = await freePort();
      const service = startNode('src/main.ts', serviceEnv(testEnv(h.sandbox, h.databaseUrl, h.prefix), port, { SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) }));
      children.push(service);
      // The start-up tick plans the 12 creates; four are soon held by CHeKT.
      const run = await pollUntil('the start-up tick to plan a run', () => h.app.db.syncRun.findFirst({ where: { trigger: 'schedule', status: 'running' } }), { timeoutMs: 30_000, intervalMs: 100 });
      await pollUntil('four creates in flight', () => h.sandbox.inFlight() >= 4, { timeoutMs: 30_000, intervalMs: 50 });

      const signalled = Date.now();
      service.kill('SIGTERM');
      const exit = await waitExit(service, 30_000);
      const tookMs = Date.now() - signalled;
      expect(exit.code).toBe(0);
      expect(exit.stdout).toMatch(/jobs still running at shutdown timeout; they will be retried/);
      expect(exit.stdout).toMatch(/"msg":"stopped"/);
      // 1 s for the jobs, then closing Redis and PostgreSQL: far less than the 10 s CHeKT holds the requests.
      expect(tookMs).toBeLessThan(shutdownTimeoutMs + 4000);
      // None of the cut jobs finished; they stay `active`, locked by the stopped worker until the lock expires.
      expect(await h.app.db.syncOperation.count({ where: { runId: run.id, outcome: { not: 'queued' } } })).toBe(0);
      const activeAtExit = (await h.app.operationsQueue.getJobCounts('active')).active ?? 0;

      // CHeKT still commits the creates it was holding (their client is gone): the retries must adopt them.
      h.sandbox.setFaults({ latencyMs: 0 });
      await pollUntil('CHeKT to finish the held requests', () => h.sandbox.inFlight() === 0, { timeoutMs: 15_000 });
      await h.app.startWorkers({ control: false });
      const report = await waitLong(h, run.id);
      expect(report.status).toBe('completed');
      expect(report.failures).toEqual([]);
      expect(report.counts).toEqual({ create: { succeeded: 12 } });
      await expectConverged(h, 12, activeAtExit);
    } finally {
      await h.close();
    }
  },
  150_000,
);
