import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/logger.js';
import { PreflightError } from '../../src/preflight.js';
import { checkEvictionPolicy } from '../../src/recovery/evictionPolicy.js';
import { pollUntil } from './support/convergence.js';
import { createHarness, createProcessFixture, type ProcessFixture } from './support/harness.js';
import { startHttp } from './support/http.js';
import { freePort, killIfRunning, privateRedis, serviceEnv, startNode, type PrivateRedis } from './support/processes.js';
import { run, waitExit } from './support/spawn.js';
import { useCleanups } from './support/cleanups.js';

/**
 * docs/OPERATIONS-FAULTS.md#redis-that-may-evict-maxmemory-policy: a Redis whose `maxmemory-policy` may evict keys (here a private `redis-server` started with
 * `--maxmemory-policy volatile-lru`) would drop queued jobs and job schedulers under memory pressure. `npm start` and
 * `npm run sync` refuse it unless `REDIS_ALLOW_EVICTION=true`; a policy changed while the service runs fails
 * `/readyz` with its name; a Redis that refuses `CONFIG` (managed services) is read through `INFO`, and one that
 * refuses both is a warning, not a crash.
 */

const cleanups = useCleanups();

let evicting: PrivateRedis;
let fx: ProcessFixture;

beforeAll(async () => {
  evicting = await privateRedis(['--maxmemory-policy', 'volatile-lru']);
  await evicting.start();
  fx = await createProcessFixture('evict', [{ dealerId: '71', siteId: '1' }], { REDIS_URL: evicting.url });
}, 60_000);

afterAll(async () => {
  await fx?.close();
  await evicting?.kill();
});

/** A logger whose lines are kept, parsed. */
function capture(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const logger = createLogger('info', new Writable({ write: (c: Buffer, _e, cb) => (out.push(c.toString()), cb()) }));
  return {
    logger,
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('Redis maxmemory-policy', () => {
  test('`npm start` and `npm run sync` refuse volatile-lru with exit 2, naming REDIS_URL, the policy and REDIS_ALLOW_EVICTION', async () => {
    const port = await freePort();
    const started = await run('src/main.ts', [], serviceEnv(fx.env, port), 30_000);
    expect(started.code).toBe(2);
    expect(started.stderr).toMatch(/^REDIS_URL: Redis maxmemory-policy is volatile-lru: .*noeviction.*REDIS_ALLOW_EVICTION=true/m);
    expect(started.stdout).toMatch(/"level":50.*"policy":"volatile-lru"/);
    const synced = await run('src/cli/sync.ts', ['--dry-run'], fx.env, 30_000);
    expect(synced.code).toBe(2);
    expect(synced.stderr).toMatch(/sync failed: REDIS_URL: Redis maxmemory-policy is volatile-lru/);
    expect(await fx.db.syncRun.count()).toBe(0);
  }, 60_000);

  test('with REDIS_ALLOW_EVICTION=true `npm start` runs, logs an error, and /readyz stays ready with a warning', async () => {
    const port = await freePort();
    const child = startNode('src/main.ts', serviceEnv(fx.env, port, { REDIS_ALLOW_EVICTION: 'true' }));
    cleanups.push(async () => killIfRunning(child));
    const body = await pollUntil(
      '/readyz',
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
        const b = res?.status === 200 ? ((await res.json()) as { checks: Record<string, string> }) : null;
        // The HTTP server listens before the job schedulers start: wait for their checks.
        return b?.checks.schedulers ? b : null;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(body).toEqual({
      status: 'ready',
      checks: { postgres: 'ok', redis: 'ok', workers: 'ok', schedulers: 'ok', listener: 'ok', redisPolicy: 'ok' },
      warnings: ['redisPolicy: volatile-lru (allowed by REDIS_ALLOW_EVICTION)'],
    });
    child.kill('SIGTERM');
    const exit = await waitExit(child, 30_000);
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/"level":50,.*"policy":"volatile-lru".*"msg":"Redis maxmemory-policy is volatile-lru; running anyway because REDIS_ALLOW_EVICTION=true/);
  }, 60_000);

  test('a policy changed to allkeys-lru while the service runs fails /readyz with its name and logs an error', async () => {
    const redis = await privateRedis();
    cleanups.push(() => redis.kill());
    await redis.start();
    const h = cleanups.track(await createHarness('evictrt', { env: { REDIS_URL: redis.url, RECOVERY_INTERVAL_SECONDS: '1', LOG_LEVEL: 'info' } }));
    const http = await startHttp(h.app);
    cleanups.push(() => http.server.close());
    await h.app.startWorkers();
    await h.app.startScheduler();
    await pollUntil('ready', async () => (await fetch(`${http.base}/readyz`)).status === 200, { timeoutMs: 10_000 });

    const admin = new Redis(redis.url);
    cleanups.push(async () => admin.disconnect());
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const body = await pollUntil(
      'not ready',
      async () => {
        const res = await fetch(`${http.base}/readyz`);
        return res.status === 503 ? ((await res.json()) as Record<string, unknown>) : null;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(body).toMatchObject({ status: 'not_ready', checks: { redisPolicy: 'allkeys-lru', redis: 'ok' }, error: { code: 'not_ready', message: 'redisPolicy: allkeys-lru' } });
    expect(h.logs.filter((l) => l.level === 50 && l.policy === 'allkeys-lru').length).toBe(1);

    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await pollUntil('ready again', async () => (await fetch(`${http.base}/readyz`)).status === 200, { timeoutMs: 10_000, intervalMs: 200 });
  }, 60_000);

  test('CONFIG renamed away (managed Redis): the policy is read from INFO; an ACL user denied CONFIG and INFO: a warning, no crash', async () => {
    const noConfig = await privateRedis(['--maxmemory-policy', 'allkeys-lru', '--rename-command', 'CONFIG', '']);
    cleanups.push(() => noConfig.kill());
    await noConfig.start();
    const a = new Redis(noConfig.url);
    cleanups.push(async () => a.disconnect());
    const one = capture();
    await expect(checkEvictionPolicy(a, false, one.logger)).rejects.toThrow(PreflightError);
    expect(await checkEvictionPolicy(a, true, one.logger)).toEqual({ status: 'allowed', policy: 'allkeys-lru' });

    // An ACL user without CONFIG and INFO, as managed services hand out.
    const nothing = await privateRedis(['--maxmemory-policy', 'allkeys-lru', '--user', 'svc', 'on', 'nopass', '~*', '&*', '+@all', '-config', '-info']);
    cleanups.push(() => nothing.kill());
    await nothing.start();
    // No ready check: ioredis' own uses INFO, which this user may not run (it would only warn).
    const b = new Redis(nothing.url.replace('redis://', 'redis://svc:any@'), { enableReadyCheck: false });
    cleanups.push(async () => b.disconnect());
    expect(await b.ping()).toBe('PONG');
    const two = capture();
    const verdict = await checkEvictionPolicy(b, false, two.logger);
    expect(verdict.status).toBe('unknown');
    expect(two.lines().map((l) => [l.level, l.msg])).toEqual([[40, 'cannot read Redis maxmemory-policy; make sure it is noeviction']]);
    expect(String(two.lines()[0]!.reason)).toMatch(/CONFIG GET refused: NOPERM.*INFO refused: NOPERM/);
  }, 60_000);
});
