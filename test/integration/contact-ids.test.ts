import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { toJsonReport } from '../../src/domain/runReport.js';
import { startRun } from '../../src/sync/startRun.js';
import { waitForRun } from '../../src/sync/waitForRun.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * CHeKT ids beyond 2^53 (docs/CHEKT-AUTH-AND-IDS.md#contact-ids). The sandbox shifts every `contact_id` on the wire by 2^53, so the
 * first contact is 9007199254740993: `JSON.parse` reads it as 9007199254740992, a neighbouring id. Before the
 * fix the site's list failed the schema on every run and the site never synced. Now the id is read as exact
 * digits, kept as a string in the ledger, and the update goes to that exact path.
 */

const OFFSET = 9_007_199_254_740_992n;
let h: Harness;
const wireId = (storeId: number) => (OFFSET + BigInt(storeId)).toString();

beforeAll(async () => {
  h = await createHarness('bigids', { sandbox: { contactIdOffset: OFFSET.toString() } });
  await seedCrm(
    h,
    [{ id: 'site', dealerId: '5', siteId: '50' }],
    [
      { id: 'b1', siteId: 'site', firstName: 'Ada', lastName: 'Lovelace', phoneNumber: '+1 201 555 0101' },
      { id: 'b2', siteId: 'site', firstName: 'Bob', lastName: 'Byte', phoneNumber: '+1 201 555 0102' },
    ],
  );
  // b1 already exists in CHeKT (store id 1 → wire id 9007199254740993): the reconcile adopts it.
  h.sandbox.seedContact('5', '50', { external_contact_id: 'b1', first_name: 'Ada', last_name: 'Lovelace', phone_number: '+12015550101', email: null });
  await h.app.startWorkers();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('contact_id beyond 2^53', () => {
  test('the sandbox really answers with an id a double cannot hold', async () => {
    const list = await h.app.planDeps.chekt.listContacts({ dealerId: '5', siteId: '50' });
    expect(list.map((c) => c.contactId)).toEqual(['9007199254740993']);
    expect(Number('9007199254740993')).toBe(9_007_199_254_740_992);
  });

  test('a reconcile syncs the site: no site error, the adopted id is kept exactly in the ledger', async () => {
    const report = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
    expect(report.sites.errors).toEqual([]);
    expect(report.status).toBe('completed');
    expect(report.counts).toEqual({ create: { succeeded: 1 } });
    const ledger = await h.app.db.syncLedger.findMany({ orderBy: { externalContactId: 'asc' } });
    expect(ledger.map((l) => [l.externalContactId, l.chektContactId])).toEqual([
      ['b1', wireId(1)],
      ['b2', wireId(2)],
    ]);
  });

  test('a CRM edit is a PUT to the exact id, and changes that contact only', async () => {
    await h.app.db.contact.updateMany({ where: { id: 'b1' }, data: { lastName: 'King' } });
    h.sandbox.resetStats();
    const { runId } = await startRun(h.app.planDeps, { mode: 'changes', trigger: 'schedule', dryRun: false });
    const report = toJsonReport(await waitForRun(h.app.db, h.app.operationsQueue, runId, { jobOptions: h.app.jobOptions }));
    expect(report.counts).toEqual({ update: { succeeded: 1 } });
    const puts = h.sandbox.requests().filter((r) => r.method === 'PUT');
    expect(puts.map((r) => [r.path, r.status])).toEqual([[`/partner/v1/dealers/5/sites/50/contacts/${wireId(1)}`, 200]]);
    expect(h.sandbox.contacts('5', '50').map((c) => [c.contact_id, c.external_contact_id, c.last_name])).toEqual([
      [1, 'b1', 'King'],
      [2, 'b2', 'Byte'],
    ]);
  });

  test('a change tick with nothing changed lists nothing: the site is not "never seen" any more', async () => {
    h.sandbox.resetStats();
    const { runId } = await startRun(h.app.planDeps, { mode: 'changes', trigger: 'schedule', dryRun: false });
    await waitForRun(h.app.db, h.app.operationsQueue, runId, { jobOptions: h.app.jobOptions });
    expect(h.sandbox.stats().total).toBe(0);
  });
});

/**
 * A contact_id that truly cannot be addressed (a fraction, `1.5`): only that contact is refused. The site syncs,
 * no copy is created, the contact is recorded as skipped with the reason, and change ticks do not report it
 * (or list the site) again.
 */
describe('a contact_id that cannot be addressed', () => {
  let u: Harness;
  beforeAll(async () => {
    u = await createHarness('oddids', { sandbox: { fractionalContactIds: ['u1'] } });
    await seedCrm(
      u,
      [{ id: 'site', dealerId: '6', siteId: '60' }],
      [
        { id: 'u1', siteId: 'site', firstName: 'Una', lastName: 'Odd', phoneNumber: '+1 201 555 0121' },
        { id: 'u2', siteId: 'site', firstName: 'Vic', lastName: 'Even', phoneNumber: '+1 201 555 0122' },
      ],
    );
    u.sandbox.seedContact('6', '60', { external_contact_id: 'u1', first_name: 'Una', last_name: 'Odd', phone_number: '+12015550121', email: null });
    await u.app.startWorkers();
  }, 60_000);
  afterAll(async () => {
    await u?.close();
  });

  test('the reconcile syncs the rest of the site and reports that one contact with the reason', async () => {
    const list = await u.app.planDeps.chekt.listContacts({ dealerId: '6', siteId: '60' });
    expect(list.map((c) => [c.contactId, c.unaddressable !== undefined])).toEqual([['1.5', true]]);
    const report = await runSync(u.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
    expect(report.sites.errors).toEqual([]);
    expect(report.counts).toEqual({ create: { succeeded: 1 } });
    expect(report.invalid).toEqual([{ site: '6/60', externalContactId: 'u1', reason: expect.stringMatching(/contact_id 1\.5, not a whole number .*cannot be addressed/) }]);
    expect(
      u.sandbox
        .contacts('6', '60')
        .map((c) => c.external_contact_id)
        .sort(),
    ).toEqual(['u1', 'u2']);
    const row = await u.app.db.syncLedger.findFirst({ where: { externalContactId: 'u1' } });
    expect(row).toMatchObject({ lastOutcome: 'skipped', chektContactId: null, lastError: expect.stringMatching(/cannot be addressed/) });
  });

  test('change ticks neither list the site nor report the contact again; the others still sync', async () => {
    u.sandbox.resetStats();
    const idle = await startRun(u.app.planDeps, { mode: 'changes', trigger: 'schedule', dryRun: false });
    const idleReport = toJsonReport(await waitForRun(u.app.db, u.app.operationsQueue, idle.runId, { jobOptions: u.app.jobOptions }));
    expect(idleReport.invalid).toEqual([]);
    expect(u.sandbox.stats().total).toBe(0);
    await u.app.db.contact.updateMany({ where: { id: 'u2' }, data: { lastName: 'Evener' } });
    const { runId } = await startRun(u.app.planDeps, { mode: 'changes', trigger: 'schedule', dryRun: false });
    const report = toJsonReport(await waitForRun(u.app.db, u.app.operationsQueue, runId, { jobOptions: u.app.jobOptions }));
    expect(report.counts).toEqual({ update: { succeeded: 1 } });
    expect(report.invalid).toEqual([]);
    expect(u.sandbox.contacts('6', '60').find((c) => c.external_contact_id === 'u2')?.last_name).toBe('Evener');
  });
});
