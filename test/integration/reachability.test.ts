import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { runSync } from '../../src/cli/runSync.js';
import { toJsonReport } from '../../src/domain/runReport.js';
import { startRun } from '../../src/sync/startRun.js';
import { waitForRun } from '../../src/sync/waitForRun.js';
import { createHarness, createProcessFixture, seedCrm, type Harness, type ProcessFixture } from './support/harness.js';
import { basic, CREDENTIALS, startHttp } from './support/http.js';
import { run, start, waitExit } from './support/spawn.js';

/**
 * Reachability (docs/REACHABILITY.md) through the CLI processes and the HTTP API, against the sandbox:
 * - 80/1 has only a landline and a toll-free number: unreachable in `status`, `status --json`, the site API,
 *   the run report and `chekt_sync_sites_unreachable`; 80/2 has one US number: reachable;
 * - phones with an extension reach a strict CHeKT without it (docs/REACHABILITY.md#phone-types), with a warning;
 * - a field CHeKT refuses is dropped and the contact written without it, and the run report says so;
 * - the echo check flags a contact whose phone CHeKT dropped, and the site counts it as unreachable;
 * - SITE_MIN_SMS_CONTACTS holds the delete of a site's last SMS-capable contact.
 */

const SITES = [
  { dealerId: '80', siteId: '1' },
  { dealerId: '80', siteId: '2' },
  { dealerId: '80', siteId: '3' },
];

describe('through the CLI (npm run sync, npm run status)', () => {
  let fx: ProcessFixture;
  const status = (args: string[]) => waitExit(start('status', args, { DATABASE_URL: fx.env.DATABASE_URL! }, { npm: true }), 60_000);

  beforeAll(async () => {
    fx = await createProcessFixture('reach-cli', SITES, { LOG_LEVEL: 'warn' });
    await fx.db.$executeRawUnsafe(`INSERT INTO sites (id, chekt_dealer_id, chekt_site_id, name) VALUES ('a', '80', '1', 'Office'), ('b', '80', '2', 'Shop'), ('c', '80', '3', 'Depot')`);
    await fx.db.$executeRawUnsafe(`INSERT INTO contacts (id, site_id, first_name, last_name, phone_number, email) VALUES
      ('a1', 'a', 'Lena', 'Fix', '+44 20 7946 0958', NULL),
      ('a2', 'a', 'Toni', 'Free', '1-800-555-0199', NULL),
      ('b1', 'b', 'Uma', 'Cell', '(201) 555-0123', 'uma@example.com'),
      ('b2', 'b', 'Ole', 'Desk', '+49 30 1234567', NULL),
      ('c1', 'c', 'Eva', 'Ext', '+1 (201) 555-0100 ext 99999999', 'eva@example.com'),
      ('c2', 'c', 'Xan', 'Ext', '(201) 555-0199 x12', NULL)`);
    // A strict CHeKT: refuses "+12015550100 ext. 99999999" (400 on phone_number) and, here, every email.
    fx.sandbox.setFaults({ strictPhone: true, rejectFields: ['email'] });
  }, 90_000);

  afterAll(async () => {
    await fx?.close();
  });

  test('sync --json: every contact arrives, extensions left out; unreachable site and dropped fields reported', async () => {
    const r = await run('src/cli/sync.ts', ['--json'], fx.env, 60_000);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.counts).toEqual({ create: { succeeded: 6 } });
    expect(report.unreachableSites).toEqual([{ site: '80/1', contacts: 2, smsCapable: 0, reason: '2 contacts: 1 landline, 1 toll-free' }]);
    expect(report.reachableAgainSites).toEqual([]);
    expect(report.warnings).toEqual([
      { site: '80/3', externalContactId: 'c1', reason: 'phone_number has an extension; sent without it (an SMS cannot dial an extension)' },
      { site: '80/3', externalContactId: 'c2', reason: 'phone_number has an extension; sent without it (an SMS cannot dial an extension)' },
    ]);
    const note = 'CHeKT refused email (status 400, code invalid_field); created without it';
    expect(report.notes).toEqual([
      { dealerId: '80', siteId: '2', externalContactId: 'b1', kind: 'create', note },
      { dealerId: '80', siteId: '3', externalContactId: 'c1', kind: 'create', note },
    ]);
    const phones = fx.sandbox
      .contacts('80', '3')
      .map((c) => [c.external_contact_id, c.phone_number, c.email])
      .sort();
    expect(phones).toEqual([
      ['c1', '+12015550100', null],
      ['c2', '+12015550199', null],
    ]);
  }, 90_000);

  test('status --json lists the site of landline and toll-free numbers, not the one with a US number', async () => {
    const r = await status(['--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).unreachableSites).toEqual([{ site: '80/1', contacts: 2, smsCapable: 0, reason: '2 contacts: 1 landline, 1 toll-free' }]);
  }, 60_000);

  test("status prints it as a table, and --site shows each contact's phone type", async () => {
    const r = await status([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("UNREACHABLE sites (1): no contact can receive CHeKT's verification text (docs/REACHABILITY.md)");
    expect(r.stdout).toMatch(/│ 80\/1 +│ 2 +│ 0 +│ 2 contacts: 1 landline, 1 toll-free +│/);
    const site = await status(['--site', '80/1']);
    expect(site.stdout).toContain("  UNREACHABLE: no contact can receive CHeKT's verification text (2 contacts: 1 landline, 1 toll-free)");
    expect(site.stdout).toMatch(/│ a1 +│ live +│ synced +│ +│ fixed_line +│ no +│/);
    expect(site.stdout).toMatch(/│ a2 +│ live +│ synced +│ +│ toll_free +│ no +│/);
    const other = JSON.parse((await status(['--site', '80/2', '--json'])).stdout);
    expect([other.smsCapableContacts, other.reach.reason]).toEqual([1, '2 contacts: 1 mobile or landline (North America), 1 landline']);
  }, 60_000);
});

describe('through the HTTP API and /metrics', () => {
  let h: Harness;
  let server: FastifyInstance;
  let base: string;
  let firstRunId: string;
  const auth = { authorization: basic(CREDENTIALS.admin.user, CREDENTIALS.admin.password) };
  const get = async (path: string) => (await fetch(`${base}${path}`, { headers: auth })).json() as Promise<Record<string, unknown>>;
  const sync = () => runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
  const changeTick = async () => {
    const { runId } = await startRun(h.app.planDeps, { mode: 'changes', trigger: 'schedule', dryRun: false });
    return toJsonReport(await waitForRun(h.app.db, h.app.operationsQueue, runId, { jobOptions: h.app.jobOptions, timeoutMs: 60_000 }));
  };
  const gauge = async () => {
    const text = await (await fetch(`${base}/metrics`, { headers: auth })).text();
    return text.split('\n').find((l) => l.startsWith('chekt_sync_sites_unreachable '));
  };

  beforeAll(async () => {
    h = await createHarness('reach-http');
    await seedCrm(
      h,
      [
        { id: 'a', ...SITES[0]! },
        { id: 'b', ...SITES[1]! },
        { id: 'c', ...SITES[2]! },
      ],
      [
        { id: 'a1', siteId: 'a', firstName: 'Lena', lastName: 'Fix', phoneNumber: '+44 20 7946 0958' },
        { id: 'a2', siteId: 'a', firstName: 'Toni', lastName: 'Free', phoneNumber: '1-800-555-0199' },
        { id: 'b1', siteId: 'b', firstName: 'Uma', lastName: 'Cell', phoneNumber: '(201) 555-0123' },
        { id: 'c1', siteId: 'c', firstName: 'Mia', lastName: 'Mobile', phoneNumber: '+44 7911 123456' },
        { id: 'c2', siteId: 'c', firstName: 'Dov', lastName: 'Desk', phoneNumber: '+33 1 42 68 53 00' },
      ],
    );
    await h.app.startWorkers();
    ({ server, base } = await startHttp(h.app));
    const first = await sync();
    expect(first.counts).toEqual({ create: { succeeded: 5 } });
    firstRunId = first.runId;
  }, 90_000);

  afterAll(async () => {
    await server?.close();
    await h?.close();
  });

  test('the site API gives each contact its phone type and the site its SMS-capable count; the gauge counts 80/1', async () => {
    const a = await get('/api/sites/80/1');
    expect(a.smsCapableContacts).toBe(0);
    expect((a.contacts as Array<Record<string, unknown>>).map((c) => [c.externalContactId, c.phoneType, c.smsCapable, c.reachProblem])).toEqual([
      ['a1', 'fixed_line', false, null],
      ['a2', 'toll_free', false, null],
    ]);
    expect(a.reach).toEqual({ contacts: 2, smsCapable: 0, phoneTypes: { fixed_line: 1, toll_free: 1 }, reason: '2 contacts: 1 landline, 1 toll-free' });
    const b = await get('/api/sites/80/2');
    expect(b.smsCapableContacts).toBe(1);
    expect((b.contacts as Array<Record<string, unknown>>).map((c) => [c.phoneType, c.smsCapable])).toEqual([['fixed_line_or_mobile', true]]);
    expect(await gauge()).toBe('chekt_sync_sites_unreachable 1');
    const run = await get(`/api/runs/${firstRunId}`);
    expect([run.unreachableSites, run.reachableAgainSites, run.reachProblems]).toEqual([[{ site: '80/1', contacts: 2, smsCapable: 0, reason: '2 contacts: 1 landline, 1 toll-free' }], [], []]);
  }, 60_000);

  test('the echo check: CHeKT dropping a mobile flags the contact, and the site becomes unreachable', async () => {
    h.sandbox.setFaults({ dropPhone: true });
    try {
      await h.app.db.contact.updateMany({ where: { id: 'c1' }, data: { lastName: 'Mobil' } });
      const report = await sync();
      expect(report.counts).toEqual({ update: { succeeded: 1 } });
      expect(report.reachProblems).toEqual([{ site: '80/3', externalContactId: 'c1', problem: 'CHeKT dropped the phone number it was sent' }]);
      const c = await get('/api/sites/80/3');
      expect((c.contacts as Array<Record<string, unknown>>).map((x) => [x.externalContactId, x.phoneType, x.smsCapable, x.reachProblem])).toEqual([
        ['c1', 'mobile', false, 'CHeKT dropped the phone number it was sent'],
        ['c2', 'fixed_line', false, null],
      ]);
      expect(c.smsCapableContacts).toBe(0);
      // No write loop: CHeKT still holds what it answered to the last write.
      h.sandbox.resetStats();
      expect((await sync()).counts).toEqual({});
      expect(h.sandbox.stats().writes).toBe(0);
    } finally {
      h.sandbox.setFaults({ dropPhone: false });
    }
    // Fixed in CHeKT's portal: the reconcile repairs the drift, the check passes, the site is reachable again.
    const copy = h.sandbox.contacts('80', '3').find((x) => x.external_contact_id === 'c1')!;
    h.sandbox.updateContactDirect('80', '3', copy.contact_id, { phone_number: '+447911123456', last_name: 'Edited' });
    const repaired = await sync();
    expect(repaired.reachProblems).toEqual([]);
    expect(repaired.reachableAgainSites).toEqual([{ site: '80/3', smsCapable: 1 }]);
    expect((await get('/api/sites/80/3')).smsCapableContacts).toBe(1);
  }, 90_000);

  test('SITE_MIN_SMS_CONTACTS holds the delete of the last SMS-capable contact, naming the rule', async () => {
    await h.app.db.contact.create({ data: { id: 'b2', siteId: 'b', firstName: 'Ole', lastName: 'Desk', phoneNumber: '+49 30 1234567' } });
    expect((await sync()).counts).toEqual({ create: { succeeded: 1 } });
    await h.app.db.contact.updateMany({ where: { id: 'b1' }, data: { deletedAt: new Date() } });
    const report = await sync();
    expect(report.held.map((x) => [x.site, x.reason])).toEqual([
      [
        '80/2',
        "deleting 1 contact(s) (1 SMS-capable) would leave 0 SMS-capable contact(s), below SITE_MIN_SMS_CONTACTS=1: CHeKT's verification text would reach nobody on this site; approve with: npm run sync -- --site 80/2 --approve-deletes",
      ],
    ]);
    expect(
      h.sandbox
        .contacts('80', '2')
        .map((x) => x.external_contact_id)
        .sort(),
    ).toEqual(['b1', 'b2']);
    expect(report.unreachableSites.map((u) => u.site)).toEqual(['80/1', '80/2']);
  }, 90_000);

  test('in a change tick: an unreachable site keeps its upkeep; a mobile replaced by a landline keeps the mobile (held)', async () => {
    // The previous test's held delete is withdrawn in the CRM, so this run's deletes are the only ones.
    await h.app.db.contact.updateMany({ where: { id: 'b1' }, data: { deletedAt: null } });
    await h.app.db.site.create({ data: { id: 'd', chektDealerId: '80', chektSiteId: '4', name: 'd' } });
    h.sandbox.addSite('80', '4');
    await h.app.db.contact.create({ data: { id: 'd1', siteId: 'd', firstName: 'Moe', lastName: 'Bile', phoneNumber: '+61 412 345 678' } });
    expect((await changeTick()).counts).toEqual({ create: { succeeded: 1 } });
    // 80/1 is unreachable already (a landline and a toll-free number): removing its landline is ordinary upkeep.
    await h.app.db.contact.updateMany({ where: { id: 'a1' }, data: { deletedAt: new Date() } });
    const upkeep = await changeTick();
    expect([upkeep.counts, upkeep.held]).toEqual([{ delete: { succeeded: 1 } }, []]);
    expect(upkeep.unreachableSites).toEqual([{ site: '80/1', contacts: 1, smsCapable: 0, reason: '1 contact: 1 toll-free' }]);
    expect(h.sandbox.contacts('80', '1').map((x) => x.external_contact_id)).toEqual(['a2']);

    await h.app.db.contact.updateMany({ where: { id: 'd1' }, data: { deletedAt: new Date() } });
    await h.app.db.contact.create({ data: { id: 'd2', siteId: 'd', firstName: 'Lan', lastName: 'Dline', phoneNumber: '+61 2 9876 5432' } });
    const report = await changeTick();
    expect(report.counts).toEqual({ create: { succeeded: 1 }, delete: { held: 1 } });
    expect(report.held.map((x) => [x.site, x.reason])).toEqual([
      [
        '80/4',
        "deleting 1 contact(s) (1 SMS-capable) would leave 0 SMS-capable contact(s), below SITE_MIN_SMS_CONTACTS=1: CHeKT's verification text would reach nobody on this site; approve with: npm run sync -- --site 80/4 --approve-deletes",
      ],
    ]);
    expect(
      h.sandbox
        .contacts('80', '4')
        .map((x) => x.external_contact_id)
        .sort(),
    ).toEqual(['d1', 'd2']);
    expect(report.unreachableSites).toEqual([{ site: '80/4', contacts: 1, smsCapable: 0, reason: '1 contact: 1 landline' }]);
  }, 90_000);

  test('an update whose phone CHeKT refuses goes through without it, with a note, and the echo check flags the contact', async () => {
    h.sandbox.setFaults({ rejectFields: ['phone_number'] });
    try {
      await h.app.db.contact.updateMany({ where: { id: 'c2' }, data: { phoneNumber: '+33 6 12 34 56 78', firstName: 'Dora' } });
      const report = await changeTick();
      // The previous test's held delete on 80/4 is planned again (sticky until approved).
      expect(report.counts).toEqual({ update: { succeeded: 1 }, delete: { held: 1 } });
      expect(report.notes).toEqual([{ dealerId: '80', siteId: '3', externalContactId: 'c2', kind: 'update', note: 'CHeKT refused phone_number (status 400, code invalid_field); updated without it' }]);
      expect(report.reachProblems).toEqual([{ site: '80/3', externalContactId: 'c2', problem: 'CHeKT stored a phone number with other digits than it was sent' }]);
      const copy = h.sandbox.contacts('80', '3').find((x) => x.external_contact_id === 'c2')!;
      expect([copy.first_name, copy.phone_number]).toEqual(['Dora', '+33142685300']);
      const site = await get('/api/sites/80/3');
      expect((site.contacts as Array<Record<string, unknown>>).find((x) => x.externalContactId === 'c2')).toMatchObject({
        phoneType: 'mobile',
        smsCapable: false,
        reachProblem: 'CHeKT stored a phone number with other digits than it was sent',
      });
    } finally {
      h.sandbox.setFaults({ rejectFields: [] });
    }
  }, 90_000);

  test("the worker's delete gate: the replacement's phone dropped by CHeKT keeps the old mobile (held)", async () => {
    // The earlier held delete on 80/4 is withdrawn in the CRM, so this run deletes one contact only.
    await h.app.db.contact.updateMany({ where: { id: 'd1' }, data: { deletedAt: null } });
    await h.app.db.site.create({ data: { id: 'e', chektDealerId: '80', chektSiteId: '5', name: 'e' } });
    h.sandbox.addSite('80', '5');
    await h.app.db.contact.create({ data: { id: 'e1', siteId: 'e', firstName: 'Old', lastName: 'Mobile', phoneNumber: '+49 151 23456789' } });
    expect((await changeTick()).counts).toEqual({ create: { succeeded: 1 } });
    await h.app.db.contact.updateMany({ where: { id: 'e1' }, data: { deletedAt: new Date() } });
    await h.app.db.contact.create({ data: { id: 'e2', siteId: 'e', firstName: 'New', lastName: 'Mobile', phoneNumber: '+49 151 98765432' } });
    h.sandbox.setFaults({ dropPhone: true });
    let report;
    try {
      report = await changeTick();
    } finally {
      h.sandbox.setFaults({ dropPhone: false });
    }
    // Planning saw a mobile replacing a mobile; the gate, after the create, sees CHeKT dropped the new phone.
    expect(report.counts).toEqual({ create: { succeeded: 1 }, delete: { held: 1 } });
    expect(report.reachProblems).toEqual([{ site: '80/5', externalContactId: 'e2', problem: 'CHeKT dropped the phone number it was sent' }]);
    const hold = await h.app.db.syncHold.findUnique({ where: { chektDealerId_chektSiteId: { chektDealerId: '80', chektSiteId: '5' } } });
    expect(hold?.reason).toBe('deleting would leave 0 SMS-capable contact(s) in CHeKT, below SITE_MIN_SMS_CONTACTS=1; approve with: npm run sync -- --site 80/5 --approve-deletes');
    expect(
      h.sandbox
        .contacts('80', '5')
        .map((x) => [x.external_contact_id, x.phone_number])
        .sort(),
    ).toEqual([
      ['e1', '+4915123456789'],
      ['e2', null],
    ]);
  }, 90_000);
});
