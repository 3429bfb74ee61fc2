import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { createApp, type App } from '../../src/app.js';
import { createRedisRateLimiter } from '../../src/chekt/rateLimiter.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createRedis } from '../../src/queue/connection.js';
import { OPERATIONS_QUEUE } from '../../src/queue/jobs.js';
import { startRedisCluster, type TestCluster } from './support/cluster.js';
import { createProcessFixture, queuePrefix, type ProcessFixture } from './support/harness.js';
import { run, start, waitExit } from './support/spawn.js';

/**
 * Redis Cluster (docs/DEPLOYMENT.md "Redis Cluster and managed Redis"): a real cluster of three masters started
 * from the machine's redis-server. A sync runs end to end on it (the compiled CLI, then the service's job
 * schedulers, control worker and CRM notifications in-process), every key of a queue hashes to one slot, and the
 * CHeKT rate limit is shared by two processes.
 */

let cluster: TestCluster;
let fx: ProcessFixture;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  fx = await createProcessFixture(
    'cluster',
    [
      { dealerId: '70', siteId: '1' },
      { dealerId: '70', siteId: '2' },
    ],
    {
      REDIS_CLUSTER_NODES: cluster.nodes,
      // REDIS_URL points nowhere: every connection must go to the cluster.
      REDIS_URL: 'redis://127.0.0.1:1',
      LOG_LEVEL: 'warn',
    },
  );
  await fx.db.$executeRawUnsafe(`INSERT INTO sites (id, chekt_dealer_id, chekt_site_id, name) VALUES ('a', '70', '1', 'North'), ('b', '70', '2', 'South')`);
  await fx.db.$executeRawUnsafe(`INSERT INTO contacts (id, site_id, first_name, last_name, phone_number) VALUES
    ('c1', 'a', 'Ana', 'Silva', '+1 201 555 0101'), ('c2', 'a', 'Ben', 'Ong', '+1 201 555 0102'),
    ('c3', 'b', 'Cai', 'Lee', '+1 201 555 0103'), ('c4', 'b', 'Dee', 'Roy', NULL), ('c5', 'b', 'Eli', 'Fox', '+1 201 555 0105')`);
}, 60_000);

afterAll(async () => {
  await fx?.close();
  await cluster?.stop();
});

describe('Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  test('the compiled `sync` runs end to end on a 3-master cluster; every key of the queues is in one slot', async () => {
    const r = await run('src/cli/sync.ts', ['--json'], fx.env, 60_000);
    expect(r.stderr).not.toMatch(/CROSSSLOT/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).counts).toEqual({ create: { succeeded: 5 } });
    expect(
      fx.sandbox
        .contacts('70', '1')
        .map((c) => c.external_contact_id)
        .sort(),
    ).toEqual(['c1', 'c2']);
    expect(
      fx.sandbox
        .contacts('70', '2')
        .map((c) => c.external_contact_id)
        .sort(),
    ).toEqual(['c3', 'c4', 'c5']);

    const prefix = `{${fx.env.QUEUE_PREFIX}}`;
    const client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    try {
      await client.ping();
      const keys: string[] = [];
      for (const node of client.nodes('master')) keys.push(...(await node.keys(`${prefix}:*`)));
      expect(keys).toEqual(expect.arrayContaining([`${prefix}:${OPERATIONS_QUEUE}:meta`]));
      const slots = new Set(await Promise.all(keys.map((k) => client.cluster('KEYSLOT', k))));
      expect(slots.size).toBe(1);
    } finally {
      client.disconnect();
    }
  }, 90_000);

  test('why the prefix is hash-tagged: without braces BullMQ fails on a cluster with CROSSSLOT', async () => {
    const redis = createRedis(loadConfig(fx.env).redisCluster!, { blocking: false, logger: createLogger('silent') });
    const queue = new Queue('plain', { connection: redis, prefix: queuePrefix('plain') });
    try {
      await expect(queue.add('x', {})).rejects.toThrow(/CROSSSLOT/);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  test('the service parts on a cluster: job schedulers, the control worker and a CRM change reaching CHeKT', async () => {
    const config = loadConfig({ ...fx.env, QUEUE_PREFIX: queuePrefix('cluster-svc'), SYNC_INTERVAL_SECONDS: '3600', NOTIFY_DEBOUNCE_MS: '50' });
    const app: App = createApp({ config, logger: createLogger('warn', process.stderr) });
    try {
      await app.startWorkers();
      await app.startScheduler();
      const schedulers = await app.controlQueue.getJobSchedulers();
      expect(schedulers.map((s) => s.key).sort()).toEqual(['sync-reconcile', 'sync-tick']);
      // A new CRM contact: PostgreSQL NOTIFY -> a change plan on the control queue -> an operation job -> CHeKT.
      await fx.db.$executeRawUnsafe(`INSERT INTO contacts (id, site_id, first_name, last_name) VALUES ('c6', 'a', 'Fay', 'Gil')`);
      const until = Date.now() + 30_000;
      while (Date.now() < until && !fx.sandbox.contacts('70', '1').some((c) => c.external_contact_id === 'c6')) await new Promise((r) => setTimeout(r, 100));
      expect(
        fx.sandbox
          .contacts('70', '1')
          .map((c) => c.external_contact_id)
          .sort(),
      ).toEqual(['c1', 'c2', 'c6']);
    } finally {
      await app.stop();
    }
  }, 60_000);

  test('two processes share one rate limit and one pause on the cluster: 120/min grants at most 2 per 1 s window', async () => {
    const key = `${queuePrefix('rate')}:chekt-rate`;
    const redis = createRedis(loadConfig(fx.env).redisCluster!, { blocking: false, logger: createLogger('silent') });
    try {
      // A pause set here (Lua on the cluster) holds back both processes' first grants.
      const pauseEnds = Date.now() + 1500;
      await createRedisRateLimiter({ redis, key, perMinute: 120 }).pause!(1500);
      const env = { REDIS_CLUSTER_NODES: cluster.nodes, RATE_KEY: key, PER_MINUTE: '120', COUNT: '5', START_AT: String(Date.now() + 300) };
      const children = [start('test/integration/support/rate-limiter-entry.ts', [], env), start('test/integration/support/rate-limiter-entry.ts', [], env)];
      const results = await Promise.all(children.map((c) => waitExit(c, 60_000)));
      for (const r of results) expect(r.code).toBe(0);
      const outputs = results.map((r) => JSON.parse(r.stdout) as { times: number[]; stats: { acquired: number } });
      expect(outputs.map((o) => o.stats.acquired)).toEqual([5, 5]);
      const times = outputs.flatMap((o) => o.times).sort((x, y) => x - y);
      expect(times[0]!).toBeGreaterThanOrEqual(pauseEnds - 50);
      // At most 2 grants per window across both processes: any 5 consecutive grants span more than one window.
      for (let i = 0; i + 4 < times.length; i++) expect(times[i + 4]! - times[i]!).toBeGreaterThanOrEqual(900);
      expect(times[9]! - times[0]!).toBeGreaterThanOrEqual(3600);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});
