import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';
import { RECONCILE_SCHEDULER_ID, TICK_SCHEDULER_ID } from '../../src/queue/jobs.js';
import { upsertSchedulers } from '../../src/queue/schedulers.js';
import { pollUntil } from './support/convergence.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';
import { scrapeMetrics, startHttp, type RunningServer } from './support/http.js';

/**
 * docs/OPERATIONS-FAULTS.md#scheduled-runs-that-stop-or-change: the job schedulers are entries in Redis. `/readyz` says when they are missing, the
 * recovery loop puts them back (here on a Redis reconnect, with the periodic check an hour away), a process that
 * upserts another interval says so, and the time of the last completed tick and reconcile are gauges.
 */

let h: Harness;
let http: RunningServer;

const scrape = () => scrapeMetrics(http.base);

async function readyz(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${http.base}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  h = await createHarness('sched', { env: { SYNC_INTERVAL_SECONDS: '3600', RECOVERY_INTERVAL_SECONDS: '3600', LOG_LEVEL: 'info' } });
  await seedCrm(h, [{ id: 's', dealerId: '51', siteId: '1' }], [{ id: 'p1', siteId: 's', firstName: 'Pia', lastName: 'Sched' }]);
  http = await startHttp(h.app);
  await h.app.startWorkers();
  await h.app.startScheduler();
}, 60_000);

afterAll(async () => {
  await http?.server.close();
  await h?.close();
});

describe('job schedulers in Redis', () => {
  test('the start-up tick completes and sets chekt_sync_last_change_tick_timestamp_seconds; a reconcile sets its own gauge', async () => {
    const before = Date.now() / 1000;
    await pollUntil('the start-up tick to sync p1', () => h.sandbox.contacts('51', '1').length === 1, { timeoutMs: 20_000 });
    const tick = await pollUntil('the tick gauge', async () => (await scrape()).get('chekt_sync_last_change_tick_timestamp_seconds'), { timeoutMs: 10_000 });
    expect(tick).toBeGreaterThan(before - 30);
    expect(tick).toBeLessThanOrEqual(Date.now() / 1000);
    expect((await scrape()).get('chekt_sync_last_reconcile_timestamp_seconds')).toBe(0);

    const reconcileStart = Date.now() / 1000;
    await h.app.controlQueue.add('reconcile', { type: 'reconcile' });
    const reconcile = await pollUntil('the reconcile gauge', async () => (await scrape()).get('chekt_sync_last_reconcile_timestamp_seconds'), { timeoutMs: 20_000 });
    expect(reconcile).toBeGreaterThanOrEqual(Math.floor(reconcileStart));
    expect(reconcile).toBeLessThanOrEqual(Date.now() / 1000);
    expect((await scrape()).get('chekt_sync_listener_up')).toBe(1);
  }, 60_000);

  test('/readyz answers 503 "schedulers: missing" when both were removed, and a Redis reconnect puts them back and plans a tick', async () => {
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready', checks: { postgres: 'ok', redis: 'ok', workers: 'ok', schedulers: 'ok', listener: 'ok', redisPolicy: 'ok' } } });
    await h.app.controlQueue.removeJobScheduler(TICK_SCHEDULER_ID);
    await h.app.controlQueue.removeJobScheduler(RECONCILE_SCHEDULER_ID);
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'not_ready', checks: { schedulers: 'missing', listener: 'ok' }, error: { code: 'not_ready', message: 'schedulers: missing' } });

    // A change while the schedulers are gone, then a reconnect: the recovery check runs, not the hour-long timer.
    await h.app.db.contact.updateMany({ where: { id: 'p1' }, data: { lastName: 'Back' } });
    h.app.redis.disconnect(true);
    await pollUntil('/readyz ready again', async () => (await readyz()).status === 200, { timeoutMs: 15_000, intervalMs: 200 });
    expect(await h.app.controlQueue.getJobScheduler(TICK_SCHEDULER_ID)).toMatchObject({ every: 3_600_000 });
    expect(await h.app.controlQueue.getJobScheduler(RECONCILE_SCHEDULER_ID)).toMatchObject({ pattern: '0 3 * * *', tz: 'UTC' });
    const missing = h.logs.filter((l) => l.msg === 'job scheduler missing from Redis (restarted empty, flushed or keys evicted); upserting it again and planning every pending change');
    expect(missing.map((l) => l.missing)).toEqual([['tick', 'reconcile']]);
    await pollUntil('the edit to reach CHeKT', () => h.sandbox.contacts('51', '1')[0]?.last_name === 'Back', { timeoutMs: 15_000 });
    expect((await scrape()).get('chekt_sync_recoveries_total{what="scheduler"}')).toBe(2);
  }, 60_000);

  test('upserting an interval different from the stored one logs a warning naming both (the last process to upsert wins)', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }));
    await upsertSchedulers(h.app.controlQueue, { tickEveryMs: 60_000, reconcileCron: '0 4 * * *' }, logger);
    const logs = lines
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.map((l) => [l.level, l.scheduler, l.storedEverySeconds ?? l.storedPattern, l.newEverySeconds ?? l.newPattern])).toEqual([
      [40, 'sync-tick', 3600, 60],
      [40, 'sync-reconcile', '0 3 * * *', '0 4 * * *'],
    ]);
    expect(await h.app.controlQueue.getJobScheduler(TICK_SCHEDULER_ID)).toMatchObject({ every: 60_000 });
    // The same values again: nothing to warn about.
    lines.length = 0;
    await upsertSchedulers(h.app.controlQueue, { tickEveryMs: 60_000, reconcileCron: '0 4 * * *' }, logger);
    expect(lines).toEqual([]);
  });
});
