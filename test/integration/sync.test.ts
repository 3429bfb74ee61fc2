import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { runSucceeded } from '../../src/cli/report.js';
import { numberedContacts } from './support/builders.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * The sync end to end on real PostgreSQL, real Redis and the CHeKT sandbox over HTTP
 * (docs/ARCHITECTURE.md#layout-and-flow, docs/SAFETY.md). Tests run in order and build on each other's state.
 */

let h: Harness;
const sync = (opts: { dryRun?: boolean; sites?: Array<{ dealerId: string; siteId: string }> } = {}) =>
  runSync(h.app, { trigger: 'cli', dryRun: opts.dryRun ?? false, sites: opts.sites ?? [], timeoutMs: 60_000 });
/** CHeKT's contacts of a site, sorted by external_contact_id (workers create them in any order). */
const remote = (dealerId: string, siteId: string) =>
  h.sandbox
    .contacts(dealerId, siteId)
    .map((c) => ({ ext: c.external_contact_id, first: c.first_name, last: c.last_name, phone: c.phone_number, email: c.email }))
    .sort((a, b) => (a.ext < b.ext ? -1 : a.ext > b.ext ? 1 : 0));

beforeAll(async () => {
  // Deletion holds have their own suite (safety-holds.test.ts); here deletes of small sites just run.
  h = await createHarness('sync', { env: { DELETE_HOLD_SHARE_PERCENT: '100' } });
  await seedCrm(
    h,
    [
      { id: 'site-a', dealerId: '100', siteId: '1' },
      { id: 'site-b', dealerId: '100', siteId: '2' },
      { id: 'site-off', dealerId: '200', siteId: '9', syncEnabled: false },
    ],
    [
      { id: 'a1', siteId: 'site-a', firstName: ' Ann ', lastName: 'Lee', phoneNumber: '(201) 555-0123', email: 'Ann@Example.com' },
      { id: 'a2', siteId: 'site-a', firstName: 'Bob', lastName: 'Kim', phoneNumber: null, email: null },
      { id: 'b1', siteId: 'site-b', firstName: 'Zoe\u0308', lastName: 'Ng', phoneNumber: '+82 2-312-3456', email: 'zoe@example.kr' },
      { id: 'b2', siteId: 'site-b', firstName: 'Carl', lastName: 'Otto', phoneNumber: 'call me maybe', email: 'not-an-email' },
      { id: 'b3', siteId: 'site-b', firstName: '   ', lastName: 'Nobody', phoneNumber: null, email: null },
      { id: 'off1', siteId: 'site-off', firstName: 'Off', lastName: 'Site', phoneNumber: null, email: null },
    ],
  );
  // A contact a dealer added in CHeKT's own portal: not ours, never touched.
  h.sandbox.seedContact('100', '1', { external_contact_id: 'portal-7', first_name: 'Pat', last_name: 'Portal', phone_number: null, email: null });
  // Another integration's contact on site B whose id collides with CRM contact a1 of site A: not ours either.
  h.sandbox.seedContact('100', '2', { external_contact_id: 'a1', first_name: 'Other', last_name: 'Integration', phone_number: null, email: null });
  h.sandbox.seedContact('200', '9', { external_contact_id: 'legacy', first_name: 'Leg', last_name: 'Acy', phone_number: null, email: null });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('sync into CHeKT', () => {
  test('a dry run plans but writes nothing', async () => {
    h.sandbox.resetStats();
    const report = await sync({ dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.status).toBe('completed');
    expect(report.planned).toMatchObject({ sites: 2, creates: 4, updates: 0, deletes: 0, invalid: 1, unmanaged: 2 });
    expect(report.counts).toEqual({ create: { planned: 4 } });
    expect(report.plannedOperations).toEqual([
      { dealerId: '100', siteId: '1', externalContactId: 'a1', kind: 'create', reason: 'missing_in_chekt' },
      { dealerId: '100', siteId: '1', externalContactId: 'a2', kind: 'create', reason: 'missing_in_chekt' },
      { dealerId: '100', siteId: '2', externalContactId: 'b1', kind: 'create', reason: 'missing_in_chekt' },
      { dealerId: '100', siteId: '2', externalContactId: 'b2', kind: 'create', reason: 'missing_in_chekt' },
    ]);
    expect(report.warnings).toEqual([
      { site: '100/2', externalContactId: 'b2', reason: 'phone_number is not a phone number; field not sent' },
      { site: '100/2', externalContactId: 'b2', reason: 'email is not a valid address; field not sent' },
    ]);
    expect(h.sandbox.stats().writes).toBe(0);
    expect(h.sandbox.contacts('100', '2').map((c) => c.external_contact_id)).toEqual(['a1']);
  });

  test('the first sync creates every valid contact of enabled sites, normalised', async () => {
    h.sandbox.resetStats();
    const report = await sync();
    expect(report.counts).toEqual({ create: { succeeded: 4 } });
    expect(report.failures).toEqual([]);
    expect(runSucceeded(report)).toBe(true);
    expect(report.invalid).toEqual([{ site: '100/2', externalContactId: 'b3', reason: 'first_name is empty' }]);
    expect(report.unmanagedBySite).toEqual({ '100/1': 1, '100/2': 1 });
    expect(remote('100', '1')).toEqual([
      { ext: 'a1', first: 'Ann', last: 'Lee', phone: '+12015550123', email: 'Ann@Example.com' },
      { ext: 'a2', first: 'Bob', last: 'Kim', phone: null, email: null },
      { ext: 'portal-7', first: 'Pat', last: 'Portal', phone: null, email: null },
    ]);
    // Invalid phone and email are dropped (not sent); NFD "Zoë" is sent as NFC.
    expect(remote('100', '2')).toEqual([
      { ext: 'a1', first: 'Other', last: 'Integration', phone: null, email: null },
      { ext: 'b1', first: 'Zo\u00eb', last: 'Ng', phone: '+8223123456', email: 'zoe@example.kr' },
      { ext: 'b2', first: 'Carl', last: 'Otto', phone: null, email: null },
    ]);
    // The disabled site is left exactly as it was.
    expect(remote('200', '9')).toEqual([{ ext: 'legacy', first: 'Leg', last: 'Acy', phone: null, email: null }]);
    const stats = h.sandbox.stats();
    expect(stats.writes).toBe(4);
    expect(stats.byRoute['POST /partner/v1/dealers/:dealerId/sites/:siteId/contacts']).toBe(4);
    const ledger = await h.app.db.syncLedger.findMany({ orderBy: { externalContactId: 'asc' } });
    expect(ledger.map((l) => [l.externalContactId, l.lastOutcome, l.chektContactId !== null])).toEqual([
      ['a1', 'succeeded', true],
      ['a2', 'succeeded', true],
      ['b1', 'succeeded', true],
      ['b2', 'succeeded', true],
    ]);
  });

  test('every request carried a fresh UUID x-partner-trace-id, and every API request a Bearer token', () => {
    const all = h.sandbox.requests();
    const partner = all.filter((r) => r.path.startsWith('/partner/'));
    expect(partner.length).toBeGreaterThan(0);
    expect(partner.every((r) => r.hasBearer)).toBe(true);
    expect(all.every((r) => r.traceIdIsUuid)).toBe(true);
    expect(new Set(all.map((r) => r.traceId)).size).toBe(all.length);
  });

  test('a second sync right after the first makes no write calls', async () => {
    h.sandbox.resetStats();
    const report = await sync();
    expect(report.counts).toEqual({});
    expect(report.planned).toMatchObject({ creates: 0, updates: 0, deletes: 0, unchanged: 4 });
    expect(h.sandbox.stats().writes).toBe(0);
  });

  test('an edited CRM contact is updated with one PUT', async () => {
    await h.app.db.contact.updateMany({ where: { id: 'a2' }, data: { phoneNumber: '201.555.0199', email: 'BOB@example.com', updatedAt: new Date() } });
    h.sandbox.resetStats();
    const report = await sync();
    expect(report.counts).toEqual({ update: { succeeded: 1 } });
    expect(h.sandbox.stats().byRoute).toMatchObject({ 'PUT /partner/v1/dealers/:dealerId/sites/:siteId/contacts/:contactId': 1 });
    expect(h.sandbox.stats().writes).toBe(1);
    expect(remote('100', '1').find((c) => c.ext === 'a2')).toEqual({ ext: 'a2', first: 'Bob', last: 'Kim', phone: '+12015550199', email: 'BOB@example.com' });
  });

  test('a soft-deleted and a hard-deleted CRM contact are deleted in CHeKT; the unmanaged one stays', async () => {
    await h.app.db.contact.updateMany({ where: { id: 'a2' }, data: { deletedAt: new Date() } });
    await h.app.db.contact.deleteMany({ where: { id: 'b2' } });
    h.sandbox.resetStats();
    const report = await sync();
    expect(report.counts).toEqual({ delete: { succeeded: 2 } });
    expect(h.sandbox.stats().writes).toBe(2);
    expect(remote('100', '1').map((c) => c.ext)).toEqual(['a1', 'portal-7']);
    expect(remote('100', '2').map((c) => c.ext)).toEqual(['a1', 'b1']);
    const ledger = await h.app.db.syncLedger.findUnique({
      where: { chektDealerId_chektSiteId_externalContactId: { chektDealerId: '100', chektSiteId: '2', externalContactId: 'b2' } },
    });
    expect(ledger).toMatchObject({ chektContactId: null, lastKind: 'delete', lastOutcome: 'succeeded' });
  });

  test('expired tokens: one renewal and one retry, then the sync goes on', async () => {
    await h.app.db.contact.create({ data: { id: 'a3', siteId: 'site-a', firstName: 'Cy', lastName: 'New' } });
    h.sandbox.expireAllTokens();
    h.sandbox.resetStats();
    const report = await sync();
    expect(report.counts).toEqual({ create: { succeeded: 1 } });
    const s = h.sandbox.stats();
    // One renewal, shared by the requests that were in flight with the expired token (sites are listed
    // 4 at a time, so up to that many 401s), each retried once.
    expect(s.tokens).toBe(1);
    const tokenRequests = h.sandbox.requests().filter((r) => r.route === 'POST /oauth/token');
    expect(tokenRequests.map((r) => [r.status, r.traceIdIsUuid])).toEqual([[200, true]]);
    expect(s.byStatus['401']).toBeGreaterThanOrEqual(1);
    expect(s.byStatus['401']).toBeLessThanOrEqual(4);
    expect(remote('100', '1').map((c) => c.ext)).toEqual(['a1', 'a3', 'portal-7']);
  });

  test('one contact answered 400 fails alone with its reason; the others succeed', async () => {
    await h.app.db.contact.createMany({
      data: [
        { id: 'b4', siteId: 'site-b', firstName: 'Good', lastName: 'One' },
        { id: 'b5', siteId: 'site-b', firstName: 'Bad', lastName: 'One' },
        { id: 'b6', siteId: 'site-b', firstName: 'Good', lastName: 'Two' },
      ],
    });
    h.sandbox.setFaults({ rejectExternalContactIds: ['b5'] });
    h.sandbox.resetStats();
    const report = await sync();
    h.sandbox.setFaults({ rejectExternalContactIds: [] });
    expect(report.counts).toEqual({ create: { succeeded: 2, failed: 1 } });
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]).toMatchObject({ dealerId: '100', siteId: '2', externalContactId: 'b5', kind: 'create' });
    expect(report.failures[0]?.error).toMatch(/status 400/);
    expect(runSucceeded(report)).toBe(false);
    // Failed at once: a 400 is not retried.
    expect(h.sandbox.stats().byStatus['400']).toBe(1);
    expect(remote('100', '2').map((c) => c.ext)).toEqual(['a1', 'b1', 'b4', 'b6']);
    const ledger = await h.app.db.syncLedger.findUnique({
      where: { chektDealerId_chektSiteId_externalContactId: { chektDealerId: '100', chektSiteId: '2', externalContactId: 'b5' } },
    });
    expect(ledger).toMatchObject({ lastOutcome: 'failed', chektContactId: null });
    expect(ledger?.lastError).toMatch(/400/);
  });

  test('429s are respected: the sync waits Retry-After and completes', async () => {
    // b5 is retried now that CHeKT accepts it; plus 6 new contacts.
    await h.app.db.contact.createMany({
      data: numberedContacts(6, { idPrefix: 'r', siteIds: ['site-a'], firstName: 'Rate', lastName: 'Limited' }),
    });
    h.sandbox.setRateLimit(120, 2);
    h.sandbox.resetStats();
    const report = await sync();
    h.sandbox.setRateLimit(0);
    expect(report.counts).toEqual({ create: { succeeded: 7 } });
    const s = h.sandbox.stats();
    expect(s.rateLimited).toBeGreaterThan(0);
    expect(s.byStatus['201']).toBe(7);
    expect(h.sandbox.contacts('100', '1')).toHaveLength(9);
    expect(h.sandbox.contacts('100', '2')).toHaveLength(5);
  }, 60_000);

  test('a site can be synced alone; a disabled or unknown site is rejected with a reason', async () => {
    const report = await sync({
      sites: [
        { dealerId: '100', siteId: '2' },
        { dealerId: '200', siteId: '9' },
        { dealerId: '9', siteId: '9' },
      ],
    });
    expect(report.sites.planned).toBe(1);
    expect(report.sites.rejected).toEqual([
      { ref: '200/9', reason: 'sync_enabled is false for this site' },
      { ref: '9/9', reason: 'no CRM site with this chekt_dealer_id/chekt_site_id' },
    ]);
  });
});

describe('a site re-pointed to another CHeKT site', () => {
  test('the old CHeKT site keeps its contacts and every full run reports it', async () => {
    await h.app.db.site.update({ where: { id: 'site-b' }, data: { chektSiteId: '22' } });
    h.sandbox.addSite('100', '22');
    try {
      const report = await sync();
      expect(report.unmappedSites).toEqual([{ site: '100/2', contacts: 4 }]);
      expect(
        h.sandbox
          .contacts('100', '2')
          .map((c) => c.external_contact_id)
          .sort(),
      ).toEqual(['a1', 'b1', 'b4', 'b5', 'b6']);
      expect(
        h.sandbox
          .contacts('100', '22')
          .map((c) => c.external_contact_id)
          .sort(),
      ).toEqual(['b1', 'b4', 'b5', 'b6']);
    } finally {
      await h.app.db.site.update({ where: { id: 'site-b' }, data: { chektSiteId: '2' } });
    }
  });
});

describe('logs', () => {
  test('each operation is logged with run, job, dealer, site, external_contact_id, trace ids, outcome and duration', () => {
    const ops = h.logs.filter((l) => l.msg === 'operation done');
    expect(ops.length).toBeGreaterThanOrEqual(4);
    for (const l of ops) {
      expect(l).toEqual(
        expect.objectContaining({
          runId: expect.any(String),
          jobId: expect.stringMatching(/^op\//),
          dealerId: expect.any(String),
          siteId: expect.any(String),
          externalContactId: expect.any(String),
          outcome: expect.any(String),
          durationMs: expect.any(Number),
        }),
      );
      expect((l.traceIds as string[]).every((t) => /^[0-9a-f-]{36}$/.test(t))).toBe(true);
    }
    const failed = h.logs.find((l) => l.msg === 'operation failed');
    expect(failed).toMatchObject({ externalContactId: 'b5', outcome: 'failed' });
  });

  test('logs never contain the client secret, an access token, phone numbers or email addresses', async () => {
    const token = await h.app.tokens.getToken();
    const raw = h.rawLogs();
    expect(token.length).toBeGreaterThan(10);
    expect(raw).not.toContain(token);
    expect(raw.length).toBeGreaterThan(1000);
    for (const secret of ['sandbox-secret', '2015550123', '201) 555', '+8223123456', '312-3456', 'example.com', 'example.kr', 'Bearer ']) {
      expect(raw).not.toContain(secret);
    }
  });
});
