import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { detectChanges } from '../../src/alerts/detect.js';
import { runSync } from '../../src/cli/runSync.js';
import { createHarness, createProcessFixture, seedCrm, type Harness, type ProcessFixture } from './support/harness.js';
import { start, waitExit } from './support/spawn.js';
import { receiver } from './support/webhook.js';

/**
 * Alerts (docs/CONSOLE.md#alerts) against a local webhook receiver: two real service
 * processes (`src/main.ts`) on one PostgreSQL and Redis produce exactly one POST per state change, signed with
 * HMAC-SHA256, retried after a 500; a dead webhook is given up, logged and counted, and never blocks a sync.
 */

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const SECRET = 'whsec-test-0123456789';

describe('alerts from two service processes', () => {
  let fx: ProcessFixture;
  let hook: Awaited<ReturnType<typeof receiver>>;
  const children: Array<ReturnType<typeof start>> = [];
  const delivered = () => hook.got.filter((g) => g.answered === 204);
  const events = (name: string) => delivered().filter((g) => g.body.event === name);

  beforeAll(async () => {
    hook = await receiver(1);
    fx = await createProcessFixture('alerts', [{ dealerId: '71', siteId: '1' }], {
      ADMIN_USER: 'ops',
      ADMIN_PASSWORD: 'correct horse battery',
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SYNC_INTERVAL_SECONDS: '3600',
      ALERT_WEBHOOK_URL: hook.url,
      ALERT_WEBHOOK_SECRET: SECRET,
      ALERT_CHECK_INTERVAL_MS: '200',
      ALERT_FAILURE_BATCH_SECONDS: '1',
      ALERT_RETRY_BACKOFF_MS: '100',
      ALERT_BEHIND_SECONDS: '3600',
    });
    await fx.db.$executeRawUnsafe(`INSERT INTO sites (id, chekt_dealer_id, chekt_site_id, name) VALUES ('s', '71', '1', 'Depot')`);
    await fx.db.$executeRawUnsafe(
      `INSERT INTO contacts (id, site_id, first_name, last_name, phone_number) VALUES ('k1', 's', 'Ana', 'Ruiz', '+44 7911 123456'), ('k2', 's', 'Ben', 'Okafor', '+44 7911 123457'), ('k3', 's', 'Cai', 'Wen', '+44 7911 123458')`,
    );
    for (let i = 0; i < 2; i++) children.push(start('src/main.ts', [], fx.env));
    await until('the first sync', () => fx.sandbox.contacts('71', '1').length === 3, 60_000);
  }, 90_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    // Both at once: waitExit listens for 'exit' from when it is called.
    await Promise.all(children.map((c) => waitExit(c, 30_000)));
    await new Promise((r) => hook?.server.close(r));
    await fx?.close();
  });

  test('a hold, a sync falling behind, failures, recovery: one signed POST per change, retried after a 500', async () => {
    // 2 of 3 contacts removed from the CRM: a notified change plan holds the deletes.
    await fx.db.contact.updateMany({ where: { id: { in: ['k2', 'k3'] } }, data: { deletedAt: new Date() } });
    await until('hold.created', () => events('hold.created').length > 0);
    // A change that waited 2 h on another site: over ALERT_BEHIND_SECONDS.
    await fx.db.$executeRaw`INSERT INTO sync_ledger (chekt_dealer_id, chekt_site_id, external_contact_id, pending_since) VALUES ('71', '9', 'late', clock_timestamp() - interval '2 hours')`;
    await until('sync.behind', () => events('sync.behind').length > 0);
    await fx.db.$executeRaw`UPDATE sync_ledger SET pending_since = NULL WHERE external_contact_id = 'late'`;
    await until('sync.caught_up', () => events('sync.caught_up').length > 0);
    // A contact CHeKT refuses (400): failed for good on its only attempt.
    fx.sandbox.setFaults({ rejectExternalContactIds: ['k4'] });
    await fx.db.$executeRawUnsafe(`INSERT INTO contacts (id, site_id, first_name, last_name, phone_number) VALUES ('k4', 's', 'Dee', 'Lam', '+44 7911 123459')`);
    await until('operations.failed', () => events('operations.failed').length > 0);
    // The CRM lists the contacts again: the hold is cleared.
    await fx.db.contact.updateMany({ where: { id: { in: ['k2', 'k3'] } }, data: { deletedAt: null } });
    await until('hold.cleared', () => events('hold.cleared').length > 0);
    await sleep(2000); // several more passes of both processes: nothing is announced twice

    expect(
      delivered()
        .map((g) => g.body.event)
        .sort(),
    ).toEqual(['hold.cleared', 'hold.created', 'operations.failed', 'sync.behind', 'sync.caught_up']);
    expect(events('hold.created')[0]!.body).toMatchObject({ site: '71/1', deletes: 2, managed: 3, text: expect.stringContaining('site 71/1') });
    expect(events('sync.behind')[0]!.body).toMatchObject({ site: '71/9', externalContactId: 'late', thresholdSeconds: 3600 });
    expect(events('sync.behind')[0]!.body.ageSeconds).toBeGreaterThanOrEqual(7200);
    expect(events('operations.failed')[0]!.body).toMatchObject({ total: 1, items: [{ site: '71/1', externalContactId: 'k4', kind: 'create', error: expect.stringMatching(/400/) }] });
    expect(events('hold.cleared')[0]!.body).toMatchObject({ site: '71/1' });
    for (const g of hook.got) {
      expect(g.headers['x-chekt-sync-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(g.raw).digest('hex')}`);
      expect(g.headers['x-chekt-sync-event']).toBe(g.body.event);
      expect(g.headers['x-chekt-sync-delivery']).toBe(g.body.id);
      expect(typeof g.body.text).toBe('string');
      for (const name of ['Ana', 'Ruiz', 'Ben', 'Okafor', 'Dee', 'Lam']) expect(g.raw).not.toContain(name);
    }
    // The first POST got a 500 and the same alert (same delivery id) was sent again.
    expect(hook.got[0]!.answered).toBe(500);
    expect(delivered().filter((g) => g.body.id === hook.got[0]!.body.id)).toHaveLength(1);
    expect(new Set(delivered().map((g) => g.body.id)).size).toBe(delivered().length);
    expect(await fx.db.syncAlert.count({ where: { deliveredAt: null } })).toBe(0);
  }, 120_000);
});

describe('a dead webhook', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('alerts_dead', {
      env: { ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/hook', ALERT_MAX_ATTEMPTS: '2', ALERT_RETRY_BACKOFF_MS: '10', ALERT_CHECK_INTERVAL_MS: '3600000', ALERT_TIMEOUT_MS: '500' },
    });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  test('is retried, then given up: logged, counted, and the sync goes on', async () => {
    await seedCrm(h, [{ id: 'a', dealerId: '72', siteId: '1' }], [{ id: 'p1', siteId: 'a', firstName: 'Eli', lastName: 'Moss' }]);
    await h.app.db.syncHold.create({ data: { chektDealerId: '72', chektSiteId: '5', reason: 'test hold', deletes: 2, managed: 2 } });
    const alerter = h.app.startAlerts()!;
    await alerter.tick();
    await sleep(50);
    const during = runSync(h.app, { trigger: 'cli', dryRun: false, sites: [], timeoutMs: 60_000 });
    await alerter.tick();
    expect((await during).counts).toEqual({ create: { succeeded: 1 } });
    const row = await h.app.db.syncAlert.findFirstOrThrow({ where: { event: 'hold.created' } });
    expect(row).toMatchObject({ attempts: 2, deliveredAt: null, lastError: expect.stringMatching(/ECONNREFUSED|fetch failed/) });
    expect(row.deadAt).toBeInstanceOf(Date);
    const metrics = await h.app.metrics.registry.metrics();
    expect(metrics).toMatch(/chekt_sync_alerts_total\{event="hold.created",outcome="retrying"\} 1/);
    expect(metrics).toMatch(/chekt_sync_alerts_total\{event="hold.created",outcome="dead"\} 1/);
    expect(h.logs.some((l) => l.msg === 'alert webhook gave up: alert dropped' && l.event === 'hold.created')).toBe(true);
    // Given up means given up: later passes do not POST it again.
    await alerter.tick();
    expect((await h.app.db.syncAlert.findUniqueOrThrow({ where: { id: row.id } })).attempts).toBe(2);
  }, 60_000);

  test('detection: concurrent passes announce a change once; a hold lifted and held again is cleared then created', async () => {
    const rules = { behindSeconds: 3600, failureBatchSeconds: 60, phoneRules: h.app.planDeps.rules, reach: h.app };
    await h.app.db.syncAlertState.deleteMany({});
    await h.app.db.syncHold.deleteMany({});
    await h.app.db.syncHold.create({ data: { chektDealerId: '72', chektSiteId: '6', reason: 'first', deletes: 3, managed: 4 } });
    const passes = await Promise.all(Array.from({ length: 6 }, () => detectChanges(h.app.db, rules)));
    expect(passes.flat().filter((f) => f.event.startsWith('hold.'))).toEqual([expect.objectContaining({ event: 'hold.created', site: '72/6', reason: 'first' })]);
    expect(await detectChanges(h.app.db, rules)).toEqual([]);
    await h.app.db.syncHold.deleteMany({});
    await h.app.db.syncHold.create({ data: { chektDealerId: '72', chektSiteId: '6', reason: 'second', deletes: 4, managed: 4, heldAt: new Date(Date.now() + 1000) } });
    expect((await detectChanges(h.app.db, rules)).map((f) => [f.event, 'reason' in f ? f.reason : null])).toEqual([
      ['hold.cleared', 'first'],
      ['hold.created', 'second'],
    ]);
    await h.app.db.syncHold.deleteMany({});
    expect((await detectChanges(h.app.db, rules)).map((f) => f.event)).toEqual(['hold.cleared']);
  });

  test('site.unreachable once when no contact can be texted; site.reachable once when a mobile is added; no duplicate', async () => {
    const rules = { behindSeconds: 3600, failureBatchSeconds: 60, phoneRules: h.app.planDeps.rules, reachCheckSeconds: 0, reach: h.app };
    await detectChanges(h.app.db, rules); // what earlier tests left (site 72/1's contact has no phone) is announced first
    await seedCrm(
      h,
      [{ id: 'u', dealerId: '73', siteId: '1' }],
      [
        { id: 'u1', siteId: 'u', firstName: 'Gil', lastName: 'Ross', phoneNumber: '+44 20 7946 0958' },
        { id: 'u2', siteId: 'u', firstName: 'Hal', lastName: 'Ito', phoneNumber: '+1 800 555 0199' },
      ],
    );
    const passes = await Promise.all(Array.from({ length: 6 }, () => detectChanges(h.app.db, rules)));
    const down = { event: 'site.unreachable', site: '73/1', contacts: 2, reason: '2 contacts: 1 landline, 1 toll-free' };
    expect(passes.flat()).toEqual([down]);
    expect(await detectChanges(h.app.db, rules)).toEqual([]);
    const row = await h.app.db.syncAlert.findFirstOrThrow({ where: { event: 'site.unreachable', body: { path: ['site'], equals: '73/1' } } });
    expect(row.body).toEqual({
      id: row.id,
      at: expect.any(String),
      ...down,
      text: 'chekt-contact-sync: site 73/1 is unreachable: no contact CHeKT can text (2 contacts: 1 landline, 1 toll-free). Add a mobile number in the CRM: /console/sites/73/1',
    });
    // Still unreachable with another reason: not announced again.
    await h.app.db.contact.updateMany({ where: { id: 'u2' }, data: { phoneNumber: null } });
    expect(await detectChanges(h.app.db, rules)).toEqual([]);

    await h.app.db.contact.updateMany({ where: { id: 'u2' }, data: { phoneNumber: '+44 7911 123456' } });
    const again = await Promise.all(Array.from({ length: 6 }, () => detectChanges(h.app.db, rules)));
    const up = { event: 'site.reachable', site: '73/1', contacts: 2, smsCapable: 1, reason: '2 contacts: 1 mobile, 1 landline' };
    expect(again.flat()).toEqual([up]);
    expect(await detectChanges(h.app.db, rules)).toEqual([]);
    const upRow = await h.app.db.syncAlert.findFirstOrThrow({ where: { event: 'site.reachable' } });
    expect(upRow.body).toEqual({
      id: upRow.id,
      at: expect.any(String),
      ...up,
      text: 'chekt-contact-sync: site 73/1 is reachable again: 1 of 2 contacts CHeKT can text (2 contacts: 1 mobile, 1 landline).',
    });
    expect(await h.app.db.syncAlert.count({ where: { event: { in: ['site.unreachable', 'site.reachable'] }, body: { path: ['site'], equals: '73/1' } } })).toBe(2);
    for (const name of ['Gil', 'Ross', 'Hal', 'Ito', '7946', '7911']) expect(JSON.stringify([row.body, upRow.body])).not.toContain(name);

    // An announced site that stops being synced is announced once as no longer unreachable.
    await h.app.db.contact.updateMany({ where: { id: 'u2' }, data: { phoneNumber: null } });
    expect(await detectChanges(h.app.db, rules)).toEqual([{ ...down, reason: '2 contacts: 1 landline, 1 without a phone' }]);
    await h.app.db.site.update({ where: { id: 'u' }, data: { syncEnabled: false } });
    expect(await detectChanges(h.app.db, rules)).toEqual([
      { event: 'site.reachable', site: '73/1', contacts: null, smsCapable: null, reason: 'no longer synced (sync_enabled is false, or the site is gone from the CRM)' },
    ]);
    expect(await detectChanges(h.app.db, rules)).toEqual([]);

    // The read of every site's contacts runs at most once per reachCheckSeconds across processes.
    await h.app.db.site.update({ where: { id: 'u' }, data: { syncEnabled: true } });
    expect(await detectChanges(h.app.db, { ...rules, reachCheckSeconds: 3600 })).toEqual([]);
    expect(await detectChanges(h.app.db, rules)).toEqual([{ ...down, reason: '2 contacts: 1 landline, 1 without a phone' }]);
  });
});
