import { describe, expect, test } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { countQueued } from '../../src/source/runs.js';
import { startRun } from '../../src/sync/startRun.js';
import { waitForRun } from '../../src/sync/waitForRun.js';
import { committedWrites, expectConverged, pollUntil } from './support/convergence.js';
import { createBacklog, deleteRedisPrefix, PG_ADMIN_URL, testEnv, type Harness } from './support/harness.js';
import { serviceEnv, freePort, killIfRunning, privateRedis, startNode, type PrivateRedis } from './support/processes.js';
import { waitExit } from './support/spawn.js';
import { useCleanups } from './support/cleanups.js';

/**
 * docs/SAFETY.md guarantee 9: crashes and restarts around a backlog. Redis restarted empty, PostgreSQL connections cut,
 * the service stopped with SIGTERM, and every queue key deleted: each time the run still completes and CHeKT
 * ends equal to the CRM with no duplicate `external_contact_id`. (SIGKILL of a worker process is in
 * faults-kill.test.ts: BullMQ only gives a dead worker's jobs back after its 30 s lock expires and two stalled
 * checks, which alone takes 30 to 60 s.)
 */

const cleanups = useCleanups();

/** Operations of the run no longer queued (settled by a worker). */
async function settled(h: Harness, runId: string): Promise<number> {
  return h.app.db.syncOperation.count({ where: { runId, outcome: { not: 'queued' } } });
}

const waitOptions = (h: Harness) => ({ jobOptions: h.app.jobOptions, pollMs: 100, stallCheckMs: 1500, confirmOrphanAfterMs: 300, timeoutMs: 60_000 });

/** The run completes with all `total` creates succeeded and none failed; CHeKT equals the CRM, each contact POSTed once. */
async function expectAllCreated(h: Harness, runId: string, total: number): Promise<void> {
  const report = await waitForRun(h.app.db, h.app.operationsQueue, runId, waitOptions(h));
  expect(report.status).toBe('completed');
  expect(report.failures).toEqual([]);
  expect(report.counts).toEqual({ create: { succeeded: total } });
  await expectConverged(h, total);
  expect(committedWrites(h.sandbox).POST).toBe(total);
}

describe('crashes and restarts mid-backlog', () => {
  test('Redis killed (-9) and restarted empty: the lost operations are enqueued again and CHeKT ends equal', async () => {
    const redis: PrivateRedis = await privateRedis();
    await redis.start();
    cleanups.push(() => redis.kill());
    const h = cleanups.track(await createBacklog('fredis', 15, 150, { REDIS_URL: redis.url, WORKER_CONCURRENCY: '8' }, 21));
    h.sandbox.setFaults({ latencyMs: 40 });
    await h.app.startWorkers({ control: false });
    const { runId, summary } = await startRun(h.app.planDeps, { trigger: 'cli', sites: [], dryRun: false });
    const total = summary.totals.creates;
    expect(total).toBe(149); // contact 96 has a blank first name

    await pollUntil('30 % of the operations done', async () => (await settled(h, runId)) >= 0.3 * total, { timeoutMs: 30_000, intervalMs: 50 });
    await redis.kill();
    await redis.start();
    // Every job is gone; the run still waits on its operations in PostgreSQL.
    expect(await h.app.operationsQueue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
    expect(await countQueued(h.app.db, runId)).toBeGreaterThan(0);

    await expectAllCreated(h, runId, total);
  }, 90_000);

  test('PostgreSQL connections terminated for 2 s mid-backlog: the jobs retry and CHeKT ends equal', async () => {
    // SYNC_BACKOFF_MS 500 (production default 2000; the harness uses 50): a job's five attempts then span at
    // least 3.75 s, longer than the outage, so this tests retries across attempts. (With 50 ms a job can use up
    // its attempts inside the outage, fail to record it, and still converge through the waiter's re-enqueue.)
    const h = cleanups.track(await createBacklog('fpgterm', 15, 150, { WORKER_CONCURRENCY: '8', SYNC_BACKOFF_MS: '500' }, 31));
    h.sandbox.setFaults({ latencyMs: 40 });
    await h.app.startWorkers({ control: false });
    const { runId, summary } = await startRun(h.app.planDeps, { trigger: 'cli', sites: [], dryRun: false });
    const total = summary.totals.creates;
    expect(total).toBe(149);

    await pollUntil('30 % of the operations done', async () => (await settled(h, runId)) >= 0.3 * total, { timeoutMs: 30_000, intervalMs: 50 });
    // A restart, as the service sees it: every connection cut, and new ones refused, for 2 s.
    const dbName = pg.escapeIdentifier(new URL(h.databaseUrl).pathname.slice(1));
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    let terminated = 0;
    const doneBeforeOutage = await settled(h, runId);
    try {
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        const r = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [new URL(h.databaseUrl).pathname.slice(1)]);
        terminated += r.rowCount ?? 0;
        await sleep(50);
      }
    } finally {
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    expect(terminated).toBeGreaterThan(0);
    expect(doneBeforeOutage).toBeLessThan(total);
    // The outage reached running jobs (they failed an attempt and were retried by BullMQ).
    expect(h.logs.filter((l) => l.msg === 'operation failed; will retry').length).toBeGreaterThan(0);

    await expectAllCreated(h, runId, total);
  }, 90_000);

  test('SIGTERM drains within SHUTDOWN_TIMEOUT_MS, exits 0, and the jobs it did not start run later', async () => {
    const h = cleanups.track(await createBacklog('fterm', 3, 30, {}, 41));
    const shutdownTimeoutMs = 5000;
    const port = await freePort();
    // CHeKT holds every contact request for 1.2 s: the service's start-up tick plans all 30 creates, and its four
    // workers get through about three a second.
    h.sandbox.setFaults({ latencyMs: 1200 });
    const env = serviceEnv(testEnv(h.sandbox, h.databaseUrl, h.prefix), port, { SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) });
    const service = startNode('src/main.ts', env);
    cleanups.push(async () => killIfRunning(service));
    const run = await pollUntil('the start-up tick to plan a run', () => h.app.db.syncRun.findFirst({ where: { trigger: 'schedule', status: 'running' } }), { timeoutMs: 30_000, intervalMs: 100 });
    await pollUntil('some creates done and others in flight', async () => (await settled(h, run.id)) >= 4 && h.sandbox.inFlight() > 0, { timeoutMs: 30_000, intervalMs: 50 });

    const signalled = Date.now();
    service.kill('SIGTERM');
    const exit = await waitExit(service, 30_000);
    const tookMs = Date.now() - signalled;
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/"msg":"stopped"/);
    expect(tookMs).toBeLessThan(shutdownTimeoutMs + 5000);
    // Drained: nothing was cut off mid-request, and every contact CHeKT holds is known to the ledger.
    expect(exit.stdout).not.toMatch(/jobs still running at shutdown timeout/);
    expect(h.sandbox.inFlight()).toBe(0);
    const known = await h.app.db.syncLedger.count({ where: { chektContactId: { not: null } } });
    expect(h.sandbox.allContacts()).toHaveLength(known);
    const left = await countQueued(h.app.db, run.id);
    expect(left).toBeGreaterThan(0);
    expect(await h.app.operationsQueue.getJobCounts('waiting')).toEqual({ waiting: left });

    // A new worker takes the jobs the service left waiting.
    h.sandbox.setFaults({ latencyMs: 0 });
    await h.app.startWorkers({ control: false });
    const report = await waitForRun(h.app.db, h.app.operationsQueue, run.id, waitOptions(h));
    expect(report.status).toBe('completed');
    expect(report.counts).toEqual({ create: { succeeded: 30 } });
    await expectConverged(h, 30);
    expect(committedWrites(h.sandbox).POST).toBe(30);
  }, 90_000);

  test('the queue is a cache of work: every key under the queue prefix deleted after planning, the next tick rebuilds it', async () => {
    const h = cleanups.track(await createBacklog('fcache', 6, 60, {}, 51));
    const { runId, summary } = await startRun(h.app.planDeps, { trigger: 'cli', sites: [], dryRun: false });
    expect(summary.totals.creates).toBe(60);
    expect(await h.app.operationsQueue.getJobCounts('waiting')).toEqual({ waiting: 60 });

    await deleteRedisPrefix(h.prefix);
    expect(await h.app.operationsQueue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
    // A tick enqueues again the work of runs still running a minute after planning: rewind the plan time
    // instead of waiting a minute, then run the tick the job scheduler would add.
    await h.app.db.syncRun.update({ where: { id: runId }, data: { plannedAt: new Date(Date.now() - 120_000) } });
    await h.app.startWorkers();
    await h.app.controlQueue.add('tick', { type: 'tick' });

    // The waiter itself never re-enqueues here (stall check beyond the timeout): only the tick can.
    const report = await waitForRun(h.app.db, h.app.operationsQueue, runId, { ...waitOptions(h), stallCheckMs: 120_000, timeoutMs: 30_000 });
    expect(report.status).toBe('completed');
    expect(report.counts).toEqual({ create: { succeeded: 60 } });
    await expectConverged(h, 60);
    expect(committedWrites(h.sandbox).POST).toBe(60);
  }, 60_000);
});
