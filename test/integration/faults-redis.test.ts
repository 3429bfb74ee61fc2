import { describe, expect, jest, test } from '@jest/globals';
import { Redis } from 'ioredis';
import { countQueued } from '../../src/source/runs.js';
import { startRun } from '../../src/sync/startRun.js';
import { compareWithCrm, committedWrites, expectConverged, pollUntil } from './support/convergence.js';
import { createBacklog, testEnv } from './support/harness.js';
import { freePort, killIfRunning, privateRedis, serviceEnv, startNode, type PrivateRedis } from './support/processes.js';
import { useCleanups } from './support/cleanups.js';

/**
 * docs/OPERATIONS-FAULTS.md#redis-restarted-empty-or-flushed: Redis loses the service's state while it runs. Restarted empty mid-backlog (every job and
 * both job schedulers gone), or job hashes deleted as an eviction would: each process notices by itself,
 * upserts the job schedulers again, rebuilds the pending work from PostgreSQL and CHeKT ends equal to the CRM,
 * with no restart and no ledger row written from a job whose data could not be read.
 */

const cleanups = useCleanups();

describe('Redis loses the queues while the service runs', () => {
  test('Redis killed and restarted empty mid-backlog under two services: they re-upsert the job schedulers and every pending change reaches CHeKT within about one tick, once', async () => {
    const redis: PrivateRedis = await privateRedis();
    cleanups.push(() => redis.kill());
    await redis.start();
    const h = cleanups.track(await createBacklog('rempty', 10, 100, { REDIS_URL: redis.url }, 61));
    h.sandbox.setFaults({ latencyMs: 60 });
    const tickSeconds = 10;
    const services: Array<ReturnType<typeof startNode>> = [];
    for (let i = 0; i < 2; i++) {
      const env = serviceEnv(testEnv(h.sandbox, h.databaseUrl, h.prefix, { REDIS_URL: redis.url }), await freePort(), {
        SYNC_INTERVAL_SECONDS: String(tickSeconds),
        RECOVERY_INTERVAL_SECONDS: '2',
        LOG_LEVEL: 'info',
      });
      const service = startNode('src/main.ts', env);
      services.push(service);
      cleanups.push(async () => killIfRunning(service));
    }
    const run = await pollUntil('the start-up tick to plan a run', () => h.app.db.syncRun.findFirst({ where: { trigger: 'schedule', status: 'running' } }), { timeoutMs: 30_000, intervalMs: 100 });
    await pollUntil('some creates done', async () => (await h.app.db.syncOperation.count({ where: { runId: run.id, outcome: { not: 'queued' } } })) >= 20, { timeoutMs: 30_000, intervalMs: 50 });

    await redis.kill();
    await redis.start();
    const lostAt = Date.now();
    expect(await redis.dbsize()).toBeLessThan(5);
    expect(await countQueued(h.app.db, run.id)).toBeGreaterThan(0);
    // Edits made after the loss: one changed contact and one new one.
    const edited = await h.app.db.contact.findFirstOrThrow({ where: { deletedAt: null, firstName: { not: '' } }, orderBy: { id: 'asc' } });
    await h.app.db.contact.updateMany({ where: { id: edited.id }, data: { lastName: 'Afterloss' } });
    await h.app.db.contact.create({ data: { id: 'rempty-new', siteId: edited.siteId, firstName: 'Nora', lastName: 'New' } });

    await pollUntil(
      'CHeKT equal to the CRM',
      async () => {
        const cmp = await compareWithCrm(h.app.db, h.sandbox);
        return cmp.mismatches.length === 0 && cmp.inChekt === cmp.expected && cmp.duplicates.length === 0;
      },
      { timeoutMs: (tickSeconds + 20) * 1000, intervalMs: 250 },
    );
    const tookMs = Date.now() - lostAt;
    await expectConverged(h);
    for (const service of services) expect(service.exitCode).toBeNull();
    // About one tick: the recovery loop notices at once (a Redis reconnect), not at the next tick.
    expect(tookMs).toBeLessThan(tickSeconds * 1000);
    expect(committedWrites(h.sandbox).POST).toBe((await compareWithCrm(h.app.db, h.sandbox)).expected);
    // The first run completes too (its lost operations were settled by the rebuilt jobs).
    await pollUntil('the first run to complete', async () => (await h.app.db.syncRun.findUnique({ where: { id: run.id } }))?.status === 'completed', { timeoutMs: 20_000, intervalMs: 200 });
    // No restart: the services noticed by themselves (whichever looked first put the schedulers back).
    expect(services.map((s) => s.out.join('')).join('')).toMatch(/job scheduler missing from Redis/);
  }, 120_000);

  test('job hashes deleted as an eviction would: the worker writes nothing for them, rebuilds them from PostgreSQL, and the run completes without a tick', async () => {
    const h = cleanups.track(await createBacklog('revict', 3, 20, {}, 62));
    const { runId, summary } = await startRun(h.app.planDeps, { trigger: 'cli', sites: [], dryRun: false });
    const total = summary.totals.creates;
    expect(total).toBe(20);
    const ids = (await h.app.operationsQueue.getWaiting())
      .map((j) => j.id!)
      .sort()
      .slice(0, 5);
    expect(ids).toHaveLength(5);
    // Delete only the job hashes: the ids stay in the wait list, as after an eviction of the hash keys.
    const r = new Redis(h.config.redisUrl);
    cleanups.push(async () => r.disconnect());
    for (const id of ids) expect(await r.del(`${h.prefix}:contact-operations:${id}`)).toBe(1);

    await h.app.startWorkers({ control: false });
    // No tick, no waiter: only the worker's own repair can finish the run.
    await pollUntil('the run to complete', async () => (await h.app.db.syncRun.findUnique({ where: { id: runId } }))?.status === 'completed', { timeoutMs: 20_000, intervalMs: 100 });
    const counts = await h.app.db.syncOperation.groupBy({ by: ['outcome'], where: { runId }, _count: { _all: true } });
    expect(counts.map((c) => [c.outcome, c._count._all])).toEqual([['succeeded', total]]);
    const dropped = h.logs.filter((l) => l.msg === 'operation job data unreadable (evicted or deleted from Redis); dropped without writing, rebuilding it from PostgreSQL');
    expect(dropped.map((l) => l.jobId).sort()).toEqual(ids);
    expect(
      h.logs
        .filter((l) => l.msg === 'operation job rebuilt from PostgreSQL')
        .map((l) => l.jobId)
        .sort(),
    ).toEqual(ids);
    // Nothing was written from the unreadable jobs: every ledger row names its site and contact, and holds a contact_id.
    const ledger = await h.app.db.syncLedger.findMany();
    expect(ledger).toHaveLength(total);
    expect(ledger.filter((l) => !l.chektDealerId || !l.chektSiteId || !l.externalContactId || !l.chektContactId || l.lastOutcome !== 'succeeded')).toEqual([]);
    await expectConverged(h);
    expect(committedWrites(h.sandbox).POST).toBe(total);
  }, 60_000);

  test('real eviction (allkeys-lru, maxmemory reached) after planning: repaired from PostgreSQL, CHeKT ends equal, no ledger row from lost data', async () => {
    // BullMQ warns about the policy on every connection it opens; that warning is what this test is about.
    const warn = jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
      if (!/Eviction policy is allkeys-lru/.test(String(args[0]))) process.stderr.write(`${args.map(String).join(' ')}\n`);
    });
    cleanups.push(async () => warn.mockRestore());
    const redis = await privateRedis(['--maxmemory', '3mb', '--maxmemory-policy', 'allkeys-lru', '--maxmemory-samples', '10']);
    cleanups.push(() => redis.kill());
    await redis.start();
    const h = cleanups.track(
      await createBacklog('rlru', 20, 300, { REDIS_URL: redis.url, REDIS_ALLOW_EVICTION: 'true', RECOVERY_INTERVAL_SECONDS: '1', SYNC_INTERVAL_SECONDS: '3600', LOG_LEVEL: 'info' }, 63),
    );
    const { runId, summary } = await startRun(h.app.planDeps, { trigger: 'cli', sites: [], dryRun: false });
    const total = summary.totals.creates;
    expect(total).toBeGreaterThan(290);
    const jobKeys = (await h.app.db.syncOperation.findMany({ where: { runId }, select: { opKey: true } })).map((o) => `${h.prefix}:contact-operations:${o.opKey}`);

    // Memory pressure: newer keys push the least recently used ones (the queued jobs) out.
    const admin = new Redis(redis.url);
    cleanups.push(async () => admin.disconnect());
    const junk = 'x'.repeat(2048);
    for (let i = 0; i < 4000; i++) await admin.set(`junk:${i}`, junk);
    const evicted = Number(/evicted_keys:(\d+)/.exec(await admin.info('stats'))?.[1]);
    let gone = 0;
    for (const k of jobKeys) gone += (await admin.exists(k)) === 0 ? 1 : 0;
    expect(evicted).toBeGreaterThan(0);
    expect(gone).toBeGreaterThan(0);
    // The pressure passes (an operator raises maxmemory); the lost jobs are not coming back by themselves.
    await admin.config('SET', 'maxmemory', '0');
    for (let i = 0; i < 4000; i += 500) await admin.del(...Array.from({ length: 500 }, (_, j) => `junk:${i + j}`));

    // A minute passed since planning (rewound rather than waited): the recovery loop treats the run as stale.
    await h.app.db.syncRun.update({ where: { id: runId }, data: { plannedAt: new Date(Date.now() - 120_000) } });
    await h.app.startWorkers();
    await h.app.startScheduler();
    await pollUntil('the run to complete', async () => (await h.app.db.syncRun.findUnique({ where: { id: runId } }))?.status === 'completed', { timeoutMs: 45_000, intervalMs: 250 });
    const outcomes = await h.app.db.syncOperation.groupBy({ by: ['outcome'], where: { runId }, _count: { _all: true } });
    expect(outcomes.map((c) => [c.outcome, c._count._all])).toEqual([['succeeded', total]]);
    // Rebuilt by the worker (an unreadable job), the recovery loop, or the start-up tick, whichever came first.
    const repairs = ['operation job rebuilt from PostgreSQL', 'enqueued lost operations of a run again (rebuilt from PostgreSQL)', 'enqueued orphaned operations again'];
    const repaired = h.logs.filter((l) => repairs.includes(String(l.msg)));
    expect(repaired.length).toBeGreaterThan(0);
    // Every ledger row names its site and contact; the created ones hold a contact_id, the rest are invalid contacts skipped.
    const ledger = await h.app.db.syncLedger.findMany();
    expect(ledger.filter((l) => !l.chektDealerId || !l.chektSiteId || !l.externalContactId)).toEqual([]);
    expect(ledger.filter((l) => l.lastOutcome === 'succeeded' && l.chektContactId).length).toBe(total);
    expect(ledger.filter((l) => !(l.lastOutcome === 'succeeded' && l.chektContactId)).map((l) => l.lastKind)).toEqual(ledger.filter((l) => l.lastKind === 'skip').map(() => 'skip'));
    await expectConverged(h);
    expect(committedWrites(h.sandbox).POST).toBe(total);
  }, 90_000);
});
