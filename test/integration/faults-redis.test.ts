import { afterEach, describe, expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import { countQueued } from '../../src/source/runs.js';
import { startRun } from '../../src/sync/startRun.js';
import { compareWithCrm, committedWrites, generateCrm, pollUntil } from './support/convergence.js';
import { createHarness, seedCrm, testEnv, type Harness } from './support/harness.js';
import { freePort, privateRedis, serviceEnv, startNode, type PrivateRedis } from './support/processes.js';

/**
 * Issue 12, item 2: Redis loses the service's state while it runs. Restarted empty mid-backlog (every job and
 * both job schedulers gone), or job hashes deleted as an eviction would: each process notices by itself,
 * upserts the job schedulers again, rebuilds the pending work from PostgreSQL and CHeKT ends equal to the CRM,
 * with no restart and no ledger row written from a job whose data could not be read.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

async function backlog(label: string, sites: number, contacts: number, env: Record<string, string>, seed: number): Promise<Harness> {
  const h = await createHarness(label, { sandbox: { seed }, env: { LOG_LEVEL: 'warn', ...env } });
  cleanups.push(() => h.close());
  const data = generateCrm({ sites, contacts, idPrefix: label });
  await seedCrm(h, data.sites, data.contacts);
  return h;
}

async function expectConverged(h: Harness): Promise<void> {
  const cmp = await compareWithCrm(h.app.db, h.sandbox);
  expect(cmp.duplicates).toEqual([]);
  expect(cmp.mismatches).toEqual([]);
  expect(cmp.inChekt).toBe(cmp.expected);
}

describe('Redis loses the queues while the service runs', () => {
  test('Redis killed and restarted empty mid-backlog: the running service re-upserts its job schedulers and every pending change reaches CHeKT within about one tick', async () => {
    const redis: PrivateRedis = await privateRedis();
    await redis.start();
    cleanups.push(() => redis.kill());
    const h = await backlog('rempty', 10, 100, { REDIS_URL: redis.url }, 61);
    h.sandbox.setFaults({ latencyMs: 60 });
    const port = await freePort();
    const tickSeconds = 10;
    const env = serviceEnv(testEnv(h.sandbox, h.databaseUrl, h.prefix, { REDIS_URL: redis.url }), port, {
      SYNC_INTERVAL_SECONDS: String(tickSeconds),
      RECOVERY_INTERVAL_SECONDS: '2',
      LOG_LEVEL: 'info',
    });
    const service = startNode('src/main.ts', env);
    cleanups.push(async () => {
      if (service.exitCode === null && service.signalCode === null) service.kill('SIGKILL');
    });
    const run = await pollUntil('the start-up tick to plan a run', () => h.app.db.syncRun.findFirst({ where: { trigger: 'schedule', status: 'running' } }), { timeoutMs: 30_000, intervalMs: 100 });
    await pollUntil('some creates done', async () => (await h.app.db.syncOperation.count({ where: { runId: run.id, outcome: { not: 'queued' } } })) >= 20, { timeoutMs: 30_000, intervalMs: 50 });

    await redis.kill();
    await redis.start();
    const lostAt = Date.now();
    expect(await redis.dbsize()).toBeLessThan(5);
    expect(await countQueued(h.app.db, run.id)).toBeGreaterThan(0);
    // Edits made after the loss: one changed contact and one new one.
    const edited = await h.app.db.contact.findFirstOrThrow({ where: { deletedAt: null, firstName: { not: '' } }, orderBy: { id: 'asc' } });
    await h.app.db.contact.update({ where: { id: edited.id }, data: { lastName: 'Afterloss' } });
    await h.app.db.contact.create({ data: { id: 'rempty-new', siteId: edited.siteId, firstName: 'Nora', lastName: 'New' } });

    await pollUntil('CHeKT equal to the CRM', async () => {
      const cmp = await compareWithCrm(h.app.db, h.sandbox);
      return cmp.mismatches.length === 0 && cmp.inChekt === cmp.expected && cmp.duplicates.length === 0;
    }, { timeoutMs: (tickSeconds + 20) * 1000, intervalMs: 250 });
    const tookMs = Date.now() - lostAt;
    process.stderr.write(`recovered after Redis loss in ${tookMs} ms\n`);
    await expectConverged(h);
    expect(service.exitCode).toBeNull();
    expect(tookMs).toBeLessThan((tickSeconds + 20) * 1000);
    expect(committedWrites(h.sandbox).POST).toBe((await compareWithCrm(h.app.db, h.sandbox)).expected);
    // The first run completes too (its lost operations were settled by the rebuilt jobs).
    await pollUntil('the first run to complete', async () => (await h.app.db.syncRun.findUnique({ where: { id: run.id } }))?.status === 'completed', { timeoutMs: 20_000, intervalMs: 200 });
    expect(service.out.join('')).toMatch(/job scheduler missing/);
  }, 120_000);
});
