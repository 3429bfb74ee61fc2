import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * CHeKT behaviours its Contacts page leaves open (docs/CHEKT-API.md#unknowns), where a wrong guess loops or loses data:
 * CHeKT storing phones in its own form, a PUT replacing the whole contact, a refused `""` clear.
 */

let h: Harness;
const sync = () => runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });

beforeAll(async () => {
  h = await createHarness('variants');
  await seedCrm(
    h,
    [{ id: 's', dealerId: '4', siteId: '2' }],
    [
      { id: 'v1', siteId: 's', firstName: 'Anne', lastName: 'Paris', phoneNumber: '+33 1 42 68 53 00' },
      { id: 'v2', siteId: 's', firstName: 'Sam', lastName: 'Seoul', phoneNumber: '+82 2-312-3456', email: 'sam@example.kr' },
      { id: 'v3', siteId: 's', firstName: 'Ext', lastName: 'Office', phoneNumber: '201-555-0126 ext. 12' },
    ],
  );
}, 60_000);

afterAll(async () => {
  await h?.close();
});

test('a CHeKT that stores phones as bare digits is written once, not on every run', async () => {
  h.sandbox.setFaults({ storePhoneDigitsOnly: true });
  try {
    const first = await sync();
    expect(first.counts).toEqual({ create: { succeeded: 3 } });
    const byExt = () => h.sandbox.contacts('4', '2').sort((a, b) => a.external_contact_id.localeCompare(b.external_contact_id));
    expect(byExt().map((c) => c.phone_number)).toEqual(['33142685300', '8223123456', '12015550126']);
    for (let i = 0; i < 2; i++) {
      h.sandbox.resetStats();
      const again = await sync();
      expect(again.counts).toEqual({});
      expect(h.sandbox.stats().writes).toBe(0);
    }
    // A real CRM change is still sent, and a dealer's edit in CHeKT is still repaired.
    await h.app.db.contact.updateMany({ where: { id: 'v1' }, data: { lastName: 'Lyon' } });
    const v2 = h.sandbox.contacts('4', '2').find((c) => c.external_contact_id === 'v2')!;
    h.sandbox.updateContactDirect('4', '2', v2.contact_id, { phone_number: '0000' });
    h.sandbox.resetStats();
    const changed = await sync();
    expect(changed.counts).toEqual({ update: { succeeded: 2 } });
    expect(byExt().map((c) => [c.external_contact_id, c.last_name, c.phone_number])).toEqual([
      ['v1', 'Lyon', '33142685300'],
      ['v2', 'Seoul', '8223123456'],
      ['v3', 'Office', '12015550126'],
    ]);
  } finally {
    h.sandbox.setFaults({ storePhoneDigitsOnly: false });
  }
});

test('an invalid CRM phone never erases the working phone in CHeKT, even if PUT replaces the whole contact', async () => {
  // The service reads CHeKT's current phone and sends it back with the other changes.
  await h.app.db.contact.updateMany({ where: { id: 'v2' }, data: { phoneNumber: 'call me', firstName: 'Samuel' } });
  h.sandbox.resetStats();
  const report = await sync();
  expect(report.counts).toEqual({ update: { succeeded: 1 } });
  expect(h.sandbox.stats().byRoute['GET /partner/v1/dealers/:dealerId/sites/:siteId/contacts/:contactId']).toBe(1);
  const v2 = h.sandbox.contacts('4', '2').find((c) => c.external_contact_id === 'v2');
  expect([v2?.first_name, v2?.phone_number, v2?.email]).toEqual(['Samuel', '8223123456', 'sam@example.kr']);
});

test('a list that stops short (an undocumented page size) never leads to duplicates: the site is left out with the reason', async () => {
  h.sandbox.setFaults({ listLimit: 2 });
  try {
    h.sandbox.resetStats();
    const report = await sync();
    expect(report.counts).toEqual({});
    expect(report.sites.errors).toEqual([{ site: '4/2', error: expect.stringMatching(/list looks paged or capped/) }]);
    expect(h.sandbox.stats().writes).toBe(0);
    expect(h.sandbox.contacts('4', '2')).toHaveLength(3);
  } finally {
    h.sandbox.setFaults({ listLimit: 0 });
  }
  const after = await sync();
  expect(after.sites.errors).toEqual([]);
});
