import { DEFAULT_RULES } from '../../src/domain/contact.js';
import type { RawSiteRow } from '../../src/domain/crmRows.js';
import { createSourceCheck, type CheckedContactRow, type SourceCheckOptions, type SourceDataReport } from '../../src/domain/sourceReport.js';

/** The data half of `npm run source:check` over hand-built rows (docs/SOURCE-CHECK.md#what-is-checked). */

const site = (id: string | null, over: Partial<RawSiteRow> = {}): RawSiteRow => ({ id, chekt_dealer_id: '55', chekt_site_id: id ?? '', name: `Site ${id}`, sync_enabled: 'true', ...over });
const contact = (siteId: string | null, id: string | null, over: Partial<CheckedContactRow> = {}): CheckedContactRow => ({
  id,
  site_id: siteId,
  first_name: 'Amara',
  last_name: 'Okonkwo',
  phone_number: '+447911123456',
  email: 'amara@example.com',
  deleted_at: null,
  ...over,
});
const OPTIONS: SourceCheckOptions = { rules: DEFAULT_RULES, syncEnabledPresent: true };

function check(sites: RawSiteRow[], contacts: CheckedContactRow[], options: Partial<SourceCheckOptions> = {}, batch = 1000): SourceDataReport {
  const c = createSourceCheck(sites, { ...OPTIONS, ...options });
  for (let i = 0; i < contacts.length; i += batch) c.addContacts(contacts.slice(i, i + batch));
  return c.finish();
}
const problemsOf = (r: SourceDataReport) => r.problems.items.map((p) => [p.kind, p.crmSiteId, p.externalContactId, p.reason]);

describe('createSourceCheck', () => {
  it('a clean CRM: totals, no problems, a preview by CRM site id with ids only', () => {
    const r = check([site('s2'), site('s1')], [contact('s1', 'c1'), contact('s1', 'c2', { phone_number: '+1 201 555 0123' }), contact('s2', 'c1')]);
    expect(r.totals).toEqual({
      sites: 2,
      enabledSites: 2,
      disabledSites: 0,
      invalidSites: 0,
      contacts: 3,
      valid: 3,
      smsUsable: 3,
      noPhone: 0,
      invalid: 0,
      duplicates: 0,
      orphaned: 0,
      onInvalidSites: 0,
    });
    expect(r.problems).toEqual({ total: 0, byKind: { site: 0, key: 0, orphan: 0, duplicate: 0, invalid: 0, no_phone: 0, field: 0, unreachable_site: 0 }, items: [], more: 0 });
    expect(r.preview).toEqual([
      { crmSiteId: 's1', dealerId: '55', siteId: 's1', syncEnabled: true, siteValid: true, contacts: 2, valid: 2, smsUsable: 2, noPhone: 0, invalid: 0, duplicates: 0 },
      { crmSiteId: 's2', dealerId: '55', siteId: 's2', syncEnabled: true, siteValid: true, contacts: 1, valid: 1, smsUsable: 1, noPhone: 0, invalid: 0, duplicates: 0 },
    ]);
    const text = JSON.stringify(r);
    for (const personal of ['Amara', 'Okonkwo', '7911', 'amara@example.com', 'Site s1']) expect(text).not.toContain(personal);
  });

  it('site problems by crmRows rules: no CHeKT ids, a repeated id, two sites on one CHeKT site, a flag that is not one', () => {
    const r = check(
      [
        site('ok'),
        site('noIds', { chekt_dealer_id: ' ', chekt_site_id: null }),
        site('twice'),
        site('twice', { chekt_site_id: 'other' }),
        site('a', { chekt_site_id: 'shared' }),
        site('b', { chekt_site_id: 'shared' }),
        site('maybe', { sync_enabled: 'maybe' }),
        site(null),
      ],
      [contact('noIds', 'c1'), contact('ok', 'c1')],
    );
    expect(problemsOf(r)).toEqual([
      ['site', 'noIds', null, 'the site has no chekt_dealer_id and chekt_site_id: it is not synced'],
      ['site', 'twice', null, 'two site rows have this id: the site is not synced'],
      ['site', 'maybe', null, 'sync_enabled "maybe" is not true or false: the site is not synced'],
      ['site', null, null, 'a site row has an empty id'],
      ['site', 'a', null, 'sites a, b all map to CHeKT site 55/shared: none of them is synced'],
      ['site', 'b', null, 'sites a, b all map to CHeKT site 55/shared: none of them is synced'],
    ]);
    expect(r.totals).toMatchObject({ sites: 8, enabledSites: 1, invalidSites: 6, contacts: 2, valid: 1, onInvalidSites: 1, orphaned: 0 });
    const noIds = r.preview.find((s) => s.crmSiteId === 'noIds');
    expect(noIds).toEqual({ crmSiteId: 'noIds', dealerId: null, siteId: null, syncEnabled: true, siteValid: false, contacts: 1, valid: 0, smsUsable: 0, noPhone: 0, invalid: 0, duplicates: 0 });
    expect(r.preview.find((s) => s.crmSiteId === 'maybe')?.syncEnabled).toBeNull();
    // Sites with a problem come first; the one clean site last.
    expect(r.preview.map((s) => s.crmSiteId)).toEqual(['a', 'b', 'maybe', 'noIds', 'twice', 'ok']);
  });

  it('contact problems, each with its reason: duplicate key, empty id, missing site, invalid name, no usable phone, a dropped field', () => {
    const r = check(
      [site('s1'), site('s2')],
      [
        contact('s1', 'dup'),
        contact('s1', 'dup', { phone_number: null }),
        contact('s1', 'good'),
        contact('s1', 'land', { phone_number: '+44 20 7946 0018' }),
        contact('s1', 'nophone', { phone_number: null }),
        contact('s1', 'badphone', { phone_number: '12345' }),
        contact('s1', 'noname', { first_name: '  ' }),
        contact('s1', null),
        contact('s2', 'mail', { email: 'not-an-address' }),
        contact('zz', 'orphan'),
        contact(null, 'nosite'),
      ],
    );
    expect(problemsOf(r)).toEqual([
      ['duplicate', 's1', 'dup', 'two contact rows have this (site_id, id): neither is synced, and the contact is not deleted'],
      ['key', 's1', null, 'a contact row has an empty id: it is not synced'],
      ['no_phone', 's1', 'land', 'the contact has a phone_number that is not SMS-capable (landline): CHeKT cannot text it'],
      ['no_phone', 's1', 'nophone', 'the contact has no phone_number: CHeKT cannot text it'],
      ['no_phone', 's1', 'badphone', 'the contact has no usable phone (phone_number is not a valid number (region US)): CHeKT cannot text it'],
      ['invalid', 's1', 'noname', 'first_name is empty: the contact is not synced'],
      ['field', 's2', 'mail', 'email is not a valid address; field not sent'],
      ['orphan', 'zz', 'orphan', "the contact's site_id matches no site: it is not synced"],
      ['key', null, 'nosite', 'a contact row has an empty site_id: it is not synced'],
    ]);
    expect(r.problems.byKind).toEqual({ site: 0, key: 2, orphan: 1, duplicate: 1, invalid: 1, no_phone: 3, field: 1, unreachable_site: 0 });
    expect(r.totals).toEqual({
      sites: 2,
      enabledSites: 2,
      disabledSites: 0,
      invalidSites: 0,
      contacts: 11,
      valid: 5,
      smsUsable: 2,
      noPhone: 3,
      invalid: 2,
      duplicates: 2,
      orphaned: 2,
      onInvalidSites: 0,
    });
    expect(r.preview[0]).toEqual({ crmSiteId: 's1', dealerId: '55', siteId: 's1', syncEnabled: true, siteValid: true, contacts: 8, valid: 4, smsUsable: 1, noPhone: 3, invalid: 2, duplicates: 2 });
  });

  it('a site spanning batches is one site: a duplicate split across two batches is still found', () => {
    const rows = [contact('s1', 'a'), contact('s1', 'b'), contact('s1', 'b'), contact('s2', 'a')];
    const r = check([site('s1'), site('s2')], rows, {}, 2);
    expect(problemsOf(r).map((p) => p[0])).toEqual(['duplicate']);
    expect(r.totals).toMatchObject({ contacts: 4, valid: 2, duplicates: 2 });
  });

  it('rows out of site_id order are refused rather than checked wrongly', () => {
    const c = createSourceCheck([site('s1'), site('s2')], OPTIONS);
    c.addContacts([contact('s1', 'a'), contact('s2', 'a')]);
    expect(() => c.addContacts([contact('s1', 'b')])).toThrow('contact rows must come ordered by site_id: site_id "s1" came back after another one');
  });

  it('a disabled site is counted but its contacts are not reported; no sync_enabled column means every site is enabled', () => {
    const off = check([site('s1', { sync_enabled: 'f' })], [contact('s1', 'land', { phone_number: '+44 20 7946 0018' })]);
    expect(off.problems.total).toBe(0);
    expect(off.totals).toMatchObject({ enabledSites: 0, disabledSites: 1, contacts: 1, valid: 1, noPhone: 1 });
    const noColumn = check([site('s1', { sync_enabled: null })], [], { syncEnabledPresent: false });
    expect(noColumn.totals).toMatchObject({ enabledSites: 1, disabledSites: 0 });
    expect(noColumn.preview[0]?.syncEnabled).toBe(true);
  });

  it('an enabled site with no live contact, or none CHeKT can text, is a problem; a disabled one is not', () => {
    const r = check([site('e'), site('p'), site('ok'), site('off', { sync_enabled: 'false' })], [contact('p', 'x', { phone_number: null }), contact('ok', 'y')]);
    expect(r.problems.items.filter((p) => p.kind === 'unreachable_site').map((p) => [p.crmSiteId, p.reason])).toEqual([
      ['e', 'the site has no live contact: nobody would receive the verification text (and a sync holds the deletes of its managed contacts)'],
      ['p', 'no contact of the site has a phone CHeKT can text: nobody would receive the verification text (and a sync holds the deletes of its managed contacts)'],
    ]);
  });

  it('keeps maxProblems problems and counts the rest; the preview has previewSites sites', () => {
    const sites = Array.from({ length: 12 }, (_, i) => site(`s${String(i).padStart(2, '0')}`));
    const contacts = sites.map((s) => contact(s.id, 'x', { phone_number: null }));
    const r = check(sites, contacts, { maxProblems: 5, previewSites: 3 });
    // Each site's only contact has no phone: 12 contacts without one, and 12 sites nobody can be texted on.
    expect(r.problems).toMatchObject({ total: 24, more: 19, byKind: { no_phone: 12, unreachable_site: 12 } });
    expect(r.problems.items.map((p) => p.crmSiteId)).toEqual(['s00', 's01', 's02', 's03', 's04']);
    expect(r.preview.map((s) => s.crmSiteId)).toEqual(['s00', 's01', 's02']);
  });
});
