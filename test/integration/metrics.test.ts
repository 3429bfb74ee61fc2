import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createHarness, seedCrm, testEnv, type Harness } from './support/harness.js';
import { basic, CREDENTIALS, scrapeMetrics, startHttp, type RunningServer } from './support/http.js';

/** `GET /metrics` (Prometheus text format, prom-client) and `GET /readyz` over a real sync (docs/OPERATIONS.md). */

let h: Harness;
let http: RunningServer;

/** Scrapes `/metrics` as the viewer (support/http.ts). */
const scrape = () => scrapeMetrics(http.base);

beforeAll(async () => {
  h = await createHarness('metrics');
  await seedCrm(
    h,
    [{ id: 'm', dealerId: '41', siteId: '1' }],
    [
      { id: 'm1', siteId: 'm', firstName: 'Mo', lastName: 'Tran' },
      { id: 'm2', siteId: 'm', firstName: 'Ines', lastName: 'Alves' },
    ],
  );
  http = await startHttp(h.app);
}, 60_000);

afterAll(async () => {
  await http?.server.close();
  await h?.close();
});

describe('/readyz', () => {
  test('503 naming the workers before this process runs any, with postgres and redis ok', async () => {
    const res = await fetch(`${http.base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'not_ready',
      checks: { postgres: 'ok', redis: 'ok', workers: 'not_running' },
      error: { code: 'not_ready', message: 'workers: not_running' },
    });
  });

  test('200 ready once the workers run; open, no credentials needed', async () => {
    await h.app.startWorkers();
    const res = await fetch(`${http.base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok', workers: 'ok' } });
  });

  test('503 naming postgres and redis when neither answers, within about one second', async () => {
    const config = loadConfig(testEnv(h.sandbox, 'postgresql://postgres@127.0.0.1:1/none', `${h.prefix}-down`, { REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'silent' }));
    const down = createApp({ config, logger: createLogger('silent') });
    // Over a real socket: fastify's inject() loads light-my-request, whose ESM-only `cookie` jest cannot require.
    const { server, base } = await startHttp(down);
    try {
      const started = Date.now();
      const res = await fetch(`${base}/readyz`);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; checks: Record<string, string> };
      expect(body.status).toBe('not_ready');
      expect(body.checks.postgres).toMatch(/^(error|timeout)$/);
      expect(body.checks.redis).toMatch(/^(error|timeout)$/);
      expect(body.checks.workers).toBe('not_running');
    } finally {
      await server.close();
      await down.stop({ force: true });
    }
  });
});

describe('/metrics', () => {
  test('401 without credentials; the viewer and the admin may read it', async () => {
    expect((await fetch(`${http.base}/metrics`)).status).toBe(401);
    const admin = await fetch(`${http.base}/metrics`, { headers: { authorization: basic(CREDENTIALS.admin.user, CREDENTIALS.admin.password) } });
    expect(admin.status).toBe(200);
  });

  test('after a sync: operations, CHeKT calls and durations, token renewals, queue counts and process metrics', async () => {
    const report = await runSync(h.app, { trigger: 'cli', dryRun: false, sites: [], timeoutMs: 60_000 });
    expect(report.counts).toEqual({ create: { succeeded: 2 } });
    const m = await scrape();
    expect(m.get('chekt_sync_operations_total{kind="create",outcome="succeeded"}')).toBe(2);
    expect(m.get('chekt_sync_operation_duration_seconds_count{kind="create"}')).toBe(2);
    expect(m.get('chekt_sync_chekt_calls_total{endpoint="POST contacts",status="201"}')).toBe(2);
    expect(m.get('chekt_sync_chekt_calls_total{endpoint="GET contacts",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('chekt_sync_chekt_call_duration_seconds_count{endpoint="POST contacts"}')).toBe(2);
    expect(m.get('chekt_sync_chekt_call_duration_seconds_bucket{le="+Inf",endpoint="POST contacts"}')).toBe(2);
    expect(m.get('chekt_sync_token_renewals_total{outcome="succeeded"}')).toBe(1);
    expect(m.get('chekt_sync_queue_jobs{queue="contact-operations",state="completed"}')).toBe(2);
    expect(m.get('chekt_sync_queue_jobs{queue="sync-control",state="failed"}')).toBe(0);
    expect(m.get('chekt_sync_rate_limit_wait_seconds_total')).toBeGreaterThanOrEqual(0);
    expect(m.get('chekt_sync_sites_on_hold')).toBe(0);
    expect(m.get('chekt_sync_oldest_unsynced_change_age_seconds')).toBe(0);
    expect(m.get('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(m.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  test('a failed operation is counted with outcome failed under its kind', async () => {
    await h.app.db.contact.create({ data: { id: 'm3', siteId: 'm', firstName: 'Rejected', lastName: 'One' } });
    h.sandbox.setFaults({ rejectExternalContactIds: ['m3'] });
    try {
      await runSync(h.app, { trigger: 'cli', dryRun: false, sites: [], timeoutMs: 60_000 });
    } finally {
      h.sandbox.setFaults({ rejectExternalContactIds: [] });
    }
    const m = await scrape();
    expect(m.get('chekt_sync_operations_total{kind="create",outcome="failed"}')).toBe(1);
    expect(m.get('chekt_sync_chekt_calls_total{endpoint="POST contacts",status="400"}')).toBe(1);
  });

  test('holds and the freshness gauge are read from PostgreSQL on each scrape', async () => {
    await h.app.db.syncHold.create({ data: { chektDealerId: '41', chektSiteId: '1', reason: 'test', deletes: 3, managed: 3 } });
    await h.app.db.$executeRaw`UPDATE sync_ledger SET pending_since = now() - interval '125 seconds' WHERE external_contact_id = 'm1'`;
    const m = await scrape();
    expect(m.get('chekt_sync_sites_on_hold')).toBe(1);
    const age = m.get('chekt_sync_oldest_unsynced_change_age_seconds')!;
    expect(age).toBeGreaterThanOrEqual(125);
    expect(age).toBeLessThan(185);
    await h.app.db.syncHold.deleteMany();
    await h.app.db.$executeRaw`UPDATE sync_ledger SET pending_since = NULL`;
    const after = await scrape();
    expect(after.get('chekt_sync_sites_on_hold')).toBe(0);
    expect(after.get('chekt_sync_oldest_unsynced_change_age_seconds')).toBe(0);
  });

  test('time spent waiting for the shared rate limit is counted, in seconds', async () => {
    const before = (await scrape()).get('chekt_sync_rate_limit_wait_seconds_total')!;
    await h.app.rateLimiter.pause!(300);
    await h.app.rateLimiter.acquire();
    const waited = (await scrape()).get('chekt_sync_rate_limit_wait_seconds_total')! - before;
    expect(waited).toBeGreaterThanOrEqual(0.25);
    expect(waited).toBeLessThan(2);
  });
});

describe('/readyz while stopping', () => {
  test('503 with workers: stopping once the app stops', async () => {
    await h.app.stop();
    const res = await fetch(`${http.base}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { checks: { workers: string } }).checks.workers).toBe('stopping');
  });
});
