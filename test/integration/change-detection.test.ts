import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { toJsonReport } from '../../src/domain/runReport.js';
import { runSync } from '../../src/cli/runSync.js';
import { planRun } from '../../src/sync/planRun.js';
import { startRun } from '../../src/sync/startRun.js';
import { waitForRun } from '../../src/sync/waitForRun.js';
import { dealerSites } from './support/builders.js';
import { createHarness, seedCrm, startSchedulerAndSettle, type Harness } from './support/harness.js';

/**
 * Local change detection (docs/ARCHITECTURE.md#layout-and-flow "Change tick"; docs/RETRIES.md#the-rule for failed contacts): a change tick
 * compares the CRM against the ledger, so it makes zero CHeKT calls when nothing changed and one write per
 * real change; a committed CRM change reaches CHeKT through PostgreSQL NOTIFY without waiting for the tick;
 * a contact that failed for good is tried again only when its row changes. Tests build on each other.
 */

let h: Harness;

/** A change tick, waited for; returns the run report. */
async function changeTick() {
  const { runId } = await startRun(h.app.planDeps, { mode: 'changes', trigger: 'schedule', dryRun: false });
  return toJsonReport(await waitForRun(h.app.db, h.app.operationsQueue, runId, { jobOptions: h.app.jobOptions, timeoutMs: 30_000 }));
}
const calls = () => h.sandbox.stats().total;

beforeAll(async () => {
  h = await createHarness('changes', { env: { SYNC_INTERVAL_SECONDS: '3600', NOTIFY_DEBOUNCE_MS: '100' } });
  await seedCrm(h, dealerSites('10', 2), [
    { id: 'c1', siteId: 's1', firstName: 'Ann', lastName: 'Lee', phoneNumber: '(201) 555-0123', email: 'ann@example.com' },
    { id: 'c2', siteId: 's1', firstName: 'Bob', lastName: 'Kim', phoneNumber: null, email: null },
    { id: 'c3', siteId: 's1', firstName: 'Cy', lastName: 'Ode', phoneNumber: '+44 20 7946 0958', email: null },
    { id: 'c4', siteId: 's2', firstName: 'Di', lastName: 'Fox', phoneNumber: null, email: 'di@example.com' },
    { id: 'c5', siteId: 's2', firstName: '   ', lastName: 'Nameless', phoneNumber: null, email: null },
  ]);
  await h.app.startWorkers();
  const first = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
  expect(first.counts).toEqual({ create: { succeeded: 4 } });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('change ticks', () => {
  test('a tick right after a sync makes zero CHeKT calls (no list, no token) and plans nothing', async () => {
    h.sandbox.resetStats();
    const report = await changeTick();
    expect(calls()).toBe(0);
    expect(report.counts).toEqual({});
    expect(report.planned).toMatchObject({ creates: 0, updates: 0, deletes: 0 });
  });

  test('a quiet scheduled tick leaves no run row', async () => {
    const before = await h.app.db.syncRun.count();
    const summary = await planRun(h.app.planDeps, { kind: 'change_tick', runId: randomUUID() });
    expect(summary.recorded).toBe(false);
    expect(await h.app.db.syncRun.count()).toBe(before);
  });

  test('k changed contacts cost exactly k write calls: one PUT, one POST, one DELETE', async () => {
    await h.app.db.contact.updateMany({ where: { id: 'c1' }, data: { phoneNumber: '201-555-0199' } });
    await h.app.db.contact.create({ data: { id: 'c6', siteId: 's2', firstName: 'Eve', lastName: 'Ng' } });
    await h.app.db.contact.updateMany({ where: { id: 'c3' }, data: { deletedAt: new Date() } });
    h.sandbox.resetStats();
    const report = await changeTick();
    expect(report.counts).toEqual({ update: { succeeded: 1 }, create: { succeeded: 1 }, delete: { succeeded: 1 } });
    const s = h.sandbox.stats();
    expect(s.total).toBe(3);
    expect(s.byRoute).toEqual({
      'PUT /partner/v1/dealers/:dealerId/sites/:siteId/contacts/:contactId': 1,
      'POST /partner/v1/dealers/:dealerId/sites/:siteId/contacts': 1,
      'DELETE /partner/v1/dealers/:dealerId/sites/:siteId/contacts/:contactId': 1,
    });
    expect(h.sandbox.contacts('10', '1').find((c) => c.external_contact_id === 'c1')?.phone_number).toBe('+12015550199');
    expect(
      h.sandbox
        .contacts('10', '2')
        .map((c) => c.external_contact_id)
        .sort(),
    ).toEqual(['c4', 'c6']);
  });

  test('an edit that normalises to the same values (white space, another phone spelling) makes no call', async () => {
    await h.app.db.contact.updateMany({ where: { id: 'c1' }, data: { firstName: '  Ann ', phoneNumber: '+1 (201) 555 0199' } });
    h.sandbox.resetStats();
    const report = await changeTick();
    expect(calls()).toBe(0);
    expect(report.counts).toEqual({});
    expect(report.planned).toMatchObject({ unchanged: 1, updates: 0 });
    // ...and the ledger took the new fingerprint: the next tick does not even read it.
    h.sandbox.resetStats();
    const again = await changeTick();
    expect(again.planned).toMatchObject({ unchanged: 0, updates: 0 });
  });

  test('an invalid contact is reported once with its reason, then left alone until its row changes', async () => {
    const ledger = await h.app.db.syncLedger.findFirst({ where: { externalContactId: 'c5' } });
    expect(ledger).toMatchObject({ lastOutcome: 'skipped', chektContactId: null });
    expect(ledger?.lastError).toMatch(/first_name/);
    const report = await changeTick();
    expect(report.invalid).toEqual([]);
  });
});

describe('latest wins while a job runs', () => {
  test('an edit reverted while its PUT is in flight still reaches CHeKT (the reverted row is planned again)', async () => {
    const original = 'di@example.com';
    h.sandbox.setFaults({ latencyMs: 1500 });
    try {
      await h.app.db.contact.updateMany({ where: { id: 'c4' }, data: { email: 'temporary@example.com' } });
      const first = await startRun(h.app.planDeps, { mode: 'changes', trigger: 'schedule', dryRun: false });
      for (let i = 0; i < 100 && h.sandbox.inFlight() === 0; i++) await sleep(20);
      expect(h.sandbox.inFlight()).toBe(1);
      // Back to what CHeKT held before: the ledger still says so, but the job in flight is writing the edit.
      await h.app.db.contact.updateMany({ where: { id: 'c4' }, data: { email: original } });
      const second = await startRun(h.app.planDeps, { mode: 'changes', trigger: 'schedule', dryRun: false });
      expect(second.summary.totals.updates).toBe(1);
      const wait = (runId: string) => waitForRun(h.app.db, h.app.operationsQueue, runId, { jobOptions: h.app.jobOptions, timeoutMs: 30_000 });
      await wait(first.runId);
      const report = toJsonReport(await wait(second.runId));
      expect(report.counts).toEqual({ update: { succeeded: 1 } });
    } finally {
      h.sandbox.setFaults({ latencyMs: 0 });
    }
    expect(h.sandbox.contacts('10', '2').find((c) => c.external_contact_id === 'c4')?.email).toBe(original);
    h.sandbox.resetStats();
    await changeTick();
    expect(h.sandbox.stats().total).toBe(0);
  });
});

describe('a site new to the CRM', () => {
  test('is listed once before its first writes: a contact CHeKT already holds is adopted, not created twice', async () => {
    await h.app.db.site.create({ data: { id: 's3', chektDealerId: '10', chektSiteId: '3', name: 'New site' } });
    h.sandbox.addSite('10', '3');
    h.sandbox.seedContact('10', '3', { external_contact_id: 'n1', first_name: 'Nia', last_name: 'Old', phone_number: null, email: null });
    h.sandbox.seedContact('10', '3', { external_contact_id: 'dealer-own', first_name: 'Dee', last_name: 'Portal', phone_number: null, email: null });
    await h.app.db.contact.createMany({
      data: [
        { id: 'n1', siteId: 's3', firstName: 'Nia', lastName: 'Old' },
        { id: 'n2', siteId: 's3', firstName: 'Ned', lastName: 'New' },
      ],
    });
    h.sandbox.resetStats();
    const report = await changeTick();
    expect(report.counts).toEqual({ create: { succeeded: 1 } });
    expect(report.planned).toMatchObject({ creates: 1, adopted: 1, unmanaged: 1 });
    expect(h.sandbox.stats().byRoute).toEqual({
      'GET /partner/v1/dealers/:dealerId/sites/:siteId/contacts': 1,
      'POST /partner/v1/dealers/:dealerId/sites/:siteId/contacts': 1,
    });
    expect(
      h.sandbox
        .contacts('10', '3')
        .map((c) => c.external_contact_id)
        .sort(),
    ).toEqual(['dealer-own', 'n1', 'n2']);
    h.sandbox.resetStats();
    await changeTick();
    expect(h.sandbox.stats().total).toBe(0);
  });
});

describe('failed operations', () => {
  test('a contact CHeKT rejects fails once with its reason and is not retried by the next tick (cool-down)', async () => {
    h.sandbox.setFaults({ rejectExternalContactIds: ['c7'] });
    await h.app.db.contact.create({ data: { id: 'c7', siteId: 's1', firstName: 'Rej', lastName: 'Ected' } });
    const report = await changeTick();
    expect(report.counts).toEqual({ create: { failed: 1 } });
    expect(report.failures[0]).toMatchObject({ externalContactId: 'c7', kind: 'create' });
    expect(report.failures[0]?.error).toMatch(/400/);
    h.sandbox.resetStats();
    const next = await changeTick();
    expect(next.counts).toEqual({});
    expect(calls()).toBe(0);
  });

  test('once its CRM row changes, the failed contact is tried again at once', async () => {
    h.sandbox.setFaults({ rejectExternalContactIds: [] });
    await h.app.db.contact.updateMany({ where: { id: 'c7' }, data: { lastName: 'Accepted' } });
    h.sandbox.resetStats();
    const report = await changeTick();
    expect(report.counts).toEqual({ create: { succeeded: 1 } });
    expect(h.sandbox.stats().writes).toBe(1);
    const ledger = await h.app.db.syncLedger.findFirst({ where: { externalContactId: 'c7' } });
    expect(ledger).toMatchObject({ lastOutcome: 'succeeded', failedHash: null, pendingSince: null });
  });
});

describe('near real time', () => {
  test('a committed CRM change reaches CHeKT through NOTIFY, with no tick, within seconds', async () => {
    // The next tick is an hour away.
    await startSchedulerAndSettle(h);
    h.sandbox.resetStats();
    const committed = Date.now();
    await h.app.db.contact.updateMany({ where: { id: 'c2' }, data: { email: 'bob@example.com' } });
    let put;
    for (let i = 0; i < 100 && !put; i++) {
      put = h.sandbox.requests().find((r) => r.method === 'PUT');
      if (!put) await sleep(100);
    }
    expect(put).toBeDefined();
    expect(put!.at - committed).toBeLessThan(5_000);
    expect(h.sandbox.contacts('10', '1').find((c) => c.external_contact_id === 'c2')?.email).toBe('bob@example.com');
    const run = await h.app.db.syncRun.findFirst({ where: { trigger: 'notify' }, orderBy: { startedAt: 'desc' } });
    expect(run).toMatchObject({ mode: 'changes' });
    // One PUT, no list: the notification planned from the ledger.
    expect(h.sandbox.stats().total).toBe(1);
  });
});
