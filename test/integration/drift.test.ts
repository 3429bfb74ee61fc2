import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { runSync } from '../../src/cli/runSync.js';
import { toJsonReport } from '../../src/domain/runReport.js';
import { readRun } from '../../src/source/readModel/runs.js';
import { startRun } from '../../src/sync/startRun.js';
import { waitForRun } from '../../src/sync/waitForRun.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * Drift repair (docs/SAFETY.md guarantees 4 and 7): a
 * dealer edits or deletes a contact in CHeKT's own portal. The change tick cannot see that (it compares the
 * CRM with the ledger, no CHeKT call); the reconcile, on its own schedule and on every manual resync, lists
 * CHeKT, restores the contacts from the CRM and counts the repaired drift. Contacts the service does not
 * manage are counted per site and never touched.
 */

let h: Harness;
const find = (ext: string) => h.sandbox.contacts('5', '50').find((c) => c.external_contact_id === ext);

beforeAll(async () => {
  h = await createHarness('drift');
  await seedCrm(
    h,
    [{ id: 'site', dealerId: '5', siteId: '50' }],
    [
      { id: 'd1', siteId: 'site', firstName: 'Ida', lastName: 'Park', phoneNumber: '+1 201 555 0101', email: 'ida@example.com' },
      { id: 'd2', siteId: 'site', firstName: 'Jon', lastName: 'Ruiz', phoneNumber: '+1 201 555 0102', email: null },
      { id: 'd3', siteId: 'site', firstName: 'Kai', lastName: 'Sato', phoneNumber: null, email: 'kai@example.com' },
    ],
  );
  await h.app.startWorkers();
  await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
  h.sandbox.seedContact('5', '50', { external_contact_id: 'portal-1', first_name: 'Pat', last_name: 'Portal', phone_number: null, email: null });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('drift repair', () => {
  test('a change tick does not see edits made in CHeKT: zero calls', async () => {
    h.sandbox.updateContactDirect('5', '50', find('d1')!.contact_id, { phone_number: '+19995550000' });
    h.sandbox.deleteContactDirect('5', '50', find('d2')!.contact_id);
    h.sandbox.resetStats();
    const { runId } = await startRun(h.app.planDeps, { mode: 'changes', trigger: 'schedule', dryRun: false });
    const report = toJsonReport(await waitForRun(h.app.db, h.app.operationsQueue, runId, { jobOptions: h.app.jobOptions }));
    expect(report.counts).toEqual({});
    expect(h.sandbox.stats().total).toBe(0);
  });

  test('a manual resync reconciles: the edited contact is restored, the deleted one created again, both counted as drift', async () => {
    h.sandbox.resetStats();
    const report = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
    expect(report.counts).toEqual({ update: { succeeded: 1 }, create: { succeeded: 1 } });
    expect(report.driftRepaired).toBe(2);
    expect(report.planned).toMatchObject({ driftRepairs: 2, unmanaged: 1 });
    expect(report.unmanagedBySite).toEqual({ '5/50': 1 });
    expect(find('d1')?.phone_number).toBe('+12015550101');
    expect(find('d2')).toMatchObject({ first_name: 'Jon', last_name: 'Ruiz', phone_number: '+12015550102' });
    expect(find('portal-1')).toMatchObject({ first_name: 'Pat' });
    const s = h.sandbox.stats();
    expect(s.byRoute['GET /partner/v1/dealers/:dealerId/sites/:siteId/contacts']).toBe(1);
    expect(s.writes).toBe(2);
  });

  test('a second reconcile right after makes no write call', async () => {
    h.sandbox.resetStats();
    const report = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
    expect(report.counts).toEqual({});
    expect(h.sandbox.stats().writes).toBe(0);
  });

  test('the scheduled reconcile repairs drift too, paced by its own share of the rate limit', async () => {
    h.sandbox.updateContactDirect('5', '50', find('d3')!.contact_id, { email: 'someone-else@example.com' });
    const paced = h.app.planDeps.reconcileLimiter?.stats?.().acquired ?? 0;
    await h.app.controlQueue.add('reconcile', { type: 'reconcile' });
    let run;
    for (let i = 0; i < 100; i++) {
      run = await h.app.db.syncRun.findFirst({ where: { trigger: 'reconcile_schedule', status: 'completed' } });
      if (run) break;
      await sleep(100);
    }
    expect(run).toMatchObject({ mode: 'reconcile' });
    const report = await readRun(h.app.db, run!.id);
    expect(report?.driftRepaired).toBe(1);
    expect(find('d3')?.email).toBe('kai@example.com');
    expect(h.app.planDeps.reconcileLimiter?.stats?.().acquired).toBe(paced + 1);
  });
});
