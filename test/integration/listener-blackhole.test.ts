import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { pollUntil } from './support/convergence.js';
import { blackholeProxy, type BlackholeProxy } from './support/blackhole.js';
import { createHarness, PG_ADMIN_URL, seedCrm, type Harness } from './support/harness.js';
import { scrapeMetrics, startHttp, type RunningServer } from './support/http.js';

/**
 * docs/OPERATIONS-FAULTS.md#the-listen-connection-dies-silently: the LISTEN connection black-holed (no FIN, no RST) by a TCP proxy written in Node between the
 * listener and PostgreSQL. The heartbeat notices within about two heartbeats, the state shows in the log,
 * `chekt_sync_listener_up` and `/readyz`, the listener reconnects once the path is back, a change tick right after
 * brings what changed during the cut, and notifications work again. The tick is an hour away throughout.
 */

let h: Harness;
let http: RunningServer;
let proxy: BlackholeProxy;
const HEARTBEAT_MS = 500;

const listenerUp = async () => (await scrapeMetrics(http.base)).get('chekt_sync_listener_up');

async function readyz(): Promise<{ status: number; body: { checks?: Record<string, string> } }> {
  const res = await fetch(`${http.base}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks?: Record<string, string> } };
}

const addContact = (id: string) => h.app.db.contact.create({ data: { id, siteId: 's', firstName: 'Lis', lastName: id } });
const inChekt = (id: string) => h.sandbox.contacts('61', '1').some((c) => c.external_contact_id === id);

beforeAll(async () => {
  // The listener's database URL goes through the proxy; the service's pool connects directly.
  const pgUrl = new URL(PG_ADMIN_URL);
  proxy = await blackholeProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
  h = await createHarness('lbh', {
    env: { SYNC_INTERVAL_SECONDS: '3600', RECOVERY_INTERVAL_SECONDS: '3600', NOTIFY_DEBOUNCE_MS: '50', LISTEN_HEARTBEAT_MS: String(HEARTBEAT_MS), LOG_LEVEL: 'info' },
    listenVia: (databaseUrl) => proxy.via(databaseUrl),
  });
  await seedCrm(h, [{ id: 's', dealerId: '61', siteId: '1' }], [{ id: 'b0', siteId: 's', firstName: 'Lis', lastName: 'Zero' }]);
  http = await startHttp(h.app);
  await h.app.startWorkers();
  await h.app.startScheduler();
  await pollUntil('the start-up tick', () => inChekt('b0'), { timeoutMs: 20_000 });
}, 60_000);

afterAll(async () => {
  await http?.server.close();
  await h?.close();
  await proxy?.close();
});

describe('the LISTEN connection black-holed', () => {
  test('a notified change reaches CHeKT through the proxy before the cut', async () => {
    expect(proxy.accepted).toBeGreaterThanOrEqual(1);
    await addContact('b1');
    await pollUntil('b1 in CHeKT', () => inChekt('b1'), { timeoutMs: 5_000, intervalMs: 50 });
    expect(await listenerUp()).toBe(1);
    expect((await readyz()).body.checks?.listener).toBe('ok');
  });

  test('cut: noticed within about two heartbeats (log, metric, /readyz); healed: reconnects, ticks, and notifications flow again', async () => {
    const acceptedBefore = proxy.accepted;
    const cutAt = Date.now();
    proxy.blackhole();
    await addContact('b2');
    await pollUntil('the listener to report the loss', () => h.logs.some((l) => l.msg === 'CRM notification connection lost; reconnecting (the change tick covers the gap)'), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const noticedMs = Date.now() - cutAt;
    expect(noticedMs).toBeLessThan(4 * HEARTBEAT_MS + 1000);
    const lost = h.logs.find((l) => l.msg === 'CRM notification connection lost; reconnecting (the change tick covers the gap)')!;
    expect(lost.reason).toMatch(/^no heartbeat for \d+ ms$/);
    expect(await listenerUp()).toBe(0);
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.checks).toMatchObject({ listener: 'down', postgres: 'ok' });
    // Still cut: reconnect attempts stall in the black hole too, and b2 has not reached CHeKT.
    await new Promise((r) => setTimeout(r, 1500));
    expect(proxy.accepted).toBeGreaterThan(acceptedBefore);
    expect(inChekt('b2')).toBe(false);

    const healedAt = Date.now();
    proxy.heal();
    await pollUntil('b2 in CHeKT (the change tick after reconnecting)', () => inChekt('b2'), { timeoutMs: 20_000, intervalMs: 50 });
    expect(Date.now() - healedAt).toBeLessThan(15_000);
    expect(h.logs.some((l) => l.msg === 'listening for CRM changes again; planning a change tick for what was missed')).toBe(true);
    await pollUntil('listener up', async () => (await listenerUp()) === 1, { timeoutMs: 5_000 });
    expect((await readyz()).status).toBe(200);
    await addContact('b3');
    await pollUntil('b3 in CHeKT by notification', () => inChekt('b3'), { timeoutMs: 5_000, intervalMs: 50 });
    expect((await scrapeMetrics(http.base)).get('chekt_sync_listener_reconnects_total')).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
