import type { ChektContact } from '../../src/domain/chektContact.js';
import { DEFAULT_RULES, type CrmContact } from '../../src/domain/contact.js';
import { duplicateOpKey, opKey } from '../../src/domain/opKey.js';
import { planSite, planTotals, type LedgerEntry, type PlanSiteInput, type SitePlan } from '../../src/domain/plan.js';
import { crmContact } from './fakes/planner.js';

const SITE = { crmSiteId: 'crm-site-1', dealerId: '12345', siteId: '1' } as const;

const crm = (id: string, over: Partial<CrmContact> = {}): CrmContact => crmContact(id, SITE.crmSiteId, over);

/** The CHeKT copy of `crm(id)` as a create would have left it. */
function remote(contactId: string, externalContactId: string | null, over: Partial<ChektContact> = {}): ChektContact {
  return {
    contactId,
    externalContactId,
    firstName: 'Ann',
    lastName: `Lee ${externalContactId ?? ''}`,
    phoneNumber: '+12015550123',
    email: `${externalContactId ?? 'x'}@example.com`,
    createdAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

function plan(over: Partial<PlanSiteInput>): SitePlan {
  return planSite({ site: SITE, desired: [], remote: [], ledger: [], knownToCrm: new Set(), rules: DEFAULT_RULES, ...over });
}

const ledger = (externalContactId: string, chektContactId: string | null): LedgerEntry => ({ externalContactId, chektContactId });

describe('planSite', () => {
  it('creates every valid desired contact when CHeKT is empty, and skips the invalid one', () => {
    const p = plan({ desired: [crm('a'), crm('b'), crm('bad', { firstName: ' ' })] });
    expect(p.operations).toEqual([
      { kind: 'create', opKey: 'op/12345/1/a', dealerId: '12345', siteId: '1', crmSiteId: 'crm-site-1', externalContactId: 'a', chektContactId: null, reason: 'missing_in_chekt', fields: [] },
      { kind: 'create', opKey: 'op/12345/1/b', dealerId: '12345', siteId: '1', crmSiteId: 'crm-site-1', externalContactId: 'b', chektContactId: null, reason: 'missing_in_chekt', fields: [] },
    ]);
    expect(p.skipped).toEqual([{ externalContactId: 'bad', reason: 'first_name is empty' }]);
    expect(p).toMatchObject({ unchanged: 0, unmanaged: 0, adoptions: [], warnings: [], site: SITE });
  });

  it('plans nothing when CHeKT already holds equal content', () => {
    const p = plan({ desired: [crm('a'), crm('b')], remote: [remote('1', 'a'), remote('2', 'b')], ledger: [ledger('a', '1'), ledger('b', '2')] });
    expect(p.operations).toEqual([]);
    expect(p.unchanged).toBe(2);
    expect(p.adoptions).toEqual([]);
  });

  it('plans one update listing the field that differs', () => {
    const p = plan({
      desired: [crm('a'), crm('b', { email: 'new@example.com' })],
      remote: [remote('1', 'a'), remote('2', 'b')],
      ledger: [ledger('a', '1'), ledger('b', '2')],
    });
    expect(p.operations).toEqual([
      { kind: 'update', opKey: 'op/12345/1/b', dealerId: '12345', siteId: '1', crmSiteId: 'crm-site-1', externalContactId: 'b', chektContactId: '2', reason: 'fields_differ', fields: ['email'] },
    ]);
    expect(p.unchanged).toBe(1);
  });

  it('leaves a CHeKT contact unknown to the ledger and the CRM untouched (unmanaged)', () => {
    const p = plan({ desired: [crm('a')], remote: [remote('1', 'a'), remote('2', 'dealer-typed-this')], ledger: [ledger('a', '1')] });
    expect(p.operations).toEqual([]);
    expect(p.unmanaged).toBe(1);
  });

  it('treats CHeKT contacts with a null or empty external_contact_id as unmanaged, whatever the ledger holds', () => {
    const p = plan({
      remote: [remote('1', null), remote('2', ''), remote('3', '')],
      ledger: [ledger('', '2')],
      knownToCrm: new Set(['']),
    });
    expect(p.operations).toEqual([]);
    expect(p.unmanaged).toBe(3);
  });

  it('deletes a ledger-known contact that left the desired list', () => {
    const p = plan({ remote: [remote('4', 'gone')], ledger: [ledger('gone', '4')] });
    expect(p.operations).toEqual([
      { kind: 'delete', opKey: 'op/12345/1/gone', dealerId: '12345', siteId: '1', crmSiteId: 'crm-site-1', externalContactId: 'gone', chektContactId: '4', reason: 'removed_from_crm', fields: [] },
    ]);
    expect(p.unmanaged).toBe(0);
  });

  it('deletes a CRM-known contact (soft-deleted or moved) that the ledger does not know', () => {
    const p = plan({ remote: [remote('4', 'soft-deleted')], knownToCrm: new Set(['soft-deleted']) });
    expect(p.operations.map((o) => [o.kind, o.externalContactId, o.chektContactId, o.reason])).toEqual([['delete', 'soft-deleted', '4', 'removed_from_crm']]);
  });

  it('keeps the ledger copy of a duplicated contact and deletes the others with dup/ keys', () => {
    const p = plan({ desired: [crm('a')], remote: [remote('9', 'a'), remote('5', 'a'), remote('10', 'a')], ledger: [ledger('a', '9')] });
    expect(p.operations).toEqual([
      { kind: 'delete', opKey: 'dup/12345/1/5', dealerId: '12345', siteId: '1', crmSiteId: 'crm-site-1', externalContactId: 'a', chektContactId: '5', reason: 'duplicate_in_chekt', fields: [] },
      { kind: 'delete', opKey: 'dup/12345/1/10', dealerId: '12345', siteId: '1', crmSiteId: 'crm-site-1', externalContactId: 'a', chektContactId: '10', reason: 'duplicate_in_chekt', fields: [] },
    ]);
    expect(p.unchanged).toBe(1);
    expect(p.adoptions).toEqual([]);
  });

  it('without a ledger entry keeps the lowest numeric contact_id (10 > 9) and adopts it', () => {
    const p = plan({ desired: [crm('a')], remote: [remote('10', 'a'), remote('9', 'a', { firstName: 'Old' })] });
    expect(p.operations.map((o) => [o.kind, o.opKey, o.chektContactId, o.reason, o.fields])).toEqual([
      ['delete', 'dup/12345/1/10', '10', 'duplicate_in_chekt', []],
      ['update', 'op/12345/1/a', '9', 'fields_differ', ['first_name']],
    ]);
    expect(p.adoptions).toEqual([{ externalContactId: 'a', chektContactId: '9' }]);
  });

  it('deletes every copy of a removed contact: the kept one as removed_from_crm, the rest as duplicates', () => {
    const p = plan({ remote: [remote('8', 'gone'), remote('6', 'gone')], ledger: [ledger('gone', '8')] });
    expect(p.operations.map((o) => [o.opKey, o.chektContactId, o.reason])).toEqual([
      ['op/12345/1/gone', '8', 'removed_from_crm'],
      ['dup/12345/1/6', '6', 'duplicate_in_chekt'],
    ]);
  });

  it('skips an invalid desired contact that exists in CHeKT and does not delete it', () => {
    const p = plan({
      desired: [crm('a', { lastName: '\uD83D' })],
      remote: [remote('1', 'a')],
      ledger: [ledger('a', '1')],
      knownToCrm: new Set(['a']),
    });
    expect(p.operations).toEqual([]);
    expect(p.skipped).toEqual([{ externalContactId: 'a', reason: 'last_name contains broken Unicode' }]);
    expect(p.unmanaged).toBe(0);
    expect(p.unchanged).toBe(0);
  });

  it('records an adoption when CHeKT has the contact and the ledger does not (or holds an old id)', () => {
    const p = plan({ desired: [crm('a'), crm('b')], remote: [remote('1', 'a'), remote('2', 'b')], ledger: [ledger('b', null)] });
    expect(p.operations).toEqual([]);
    expect(p.adoptions).toEqual([
      { externalContactId: 'a', chektContactId: '1' },
      { externalContactId: 'b', chektContactId: '2' },
    ]);
  });

  it('passes field warnings through and still syncs the contact', () => {
    const p = plan({ desired: [crm('a', { phoneNumber: 'call me maybe' })], remote: [remote('1', 'a', { phoneNumber: '+12015550199' })], ledger: [ledger('a', '1')] });
    expect(p.operations).toEqual([]);
    expect(p.warnings).toEqual([{ externalContactId: 'a', reason: 'phone_number is not a phone number; field not sent' }]);
    expect(p.unchanged).toBe(1);
  });

  it('builds deterministic opKeys without ":" even when ids contain ":" or "/"', () => {
    const site = { crmSiteId: 's', dealerId: 'dealer:1', siteId: 'site/2' };
    const input: PlanSiteInput = {
      site,
      desired: [crm('CRM/2024/00017'), crm('a:b')],
      remote: [remote('x:1', 'gone/1'), remote('x:2', 'a:b'), remote('x:3', 'a:b')],
      ledger: [ledger('gone/1', 'x:1')],
      knownToCrm: new Set(),
      rules: DEFAULT_RULES,
    };
    const keys = planSite(input).operations.map((o) => o.opKey);
    expect(keys).toEqual(['op/dealer%3A1/site%2F2/CRM%2F2024%2F00017', 'dup/dealer%3A1/site%2F2/x%3A3', 'op/dealer%3A1/site%2F2/gone%2F1']);
    for (const k of keys) expect(k).not.toContain(':');
    expect(planSite(input).operations.map((o) => o.opKey)).toEqual(keys);
    // Distinct ids never share a key: "/" inside an id is encoded, not a separator.
    expect(opKey('a', 'b/c', 'd')).not.toBe(opKey('a/b', 'c', 'd'));
    expect(duplicateOpKey('1', '2', '3')).toBe('dup/1/2/3');
  });
});

describe('planTotals', () => {
  it('sums operations by kind and every counter across sites', () => {
    const a = plan({
      desired: [crm('new'), crm('chg', { firstName: 'Bo' }), crm('same'), crm('bad', { firstName: '' }), crm('warn', { email: 'nope' })],
      remote: [remote('1', 'chg'), remote('2', 'same'), remote('3', 'same'), remote('4', 'stranger'), remote('5', 'warn', { email: null })],
      ledger: [ledger('chg', '1')],
    });
    const b = plan({ remote: [remote('7', 'gone')], ledger: [ledger('gone', '7')] });
    expect(planTotals([a, b])).toEqual({
      sites: 2,
      creates: 1,
      updates: 1,
      deletes: 2,
      unchanged: 2,
      adopted: 2,
      invalid: 1,
      warnings: 1,
      unmanaged: 1,
    });
    expect(planTotals([])).toEqual({ sites: 0, creates: 0, updates: 0, deletes: 0, unchanged: 0, adopted: 0, invalid: 0, warnings: 0, unmanaged: 0 });
  });
});

describe('planSite: external_contact_id that cannot be a key', () => {
  test('a CRM id "" never claims CHeKT contacts without an external_contact_id', () => {
    const p = plan({
      desired: [crm('')],
      remote: [remote('5', ''), remote('6', ''), remote('7', null)],
    });
    expect(p.operations).toEqual([]);
    expect(p.adoptions).toEqual([]);
    expect(p.skipped).toEqual([{ externalContactId: '', reason: 'external_contact_id (contacts.id) is empty' }]);
    expect(p.unmanaged).toBe(3);
  });

  test.each([
    ['  ', 'external_contact_id (contacts.id) is empty'],
    ['abc ', 'external_contact_id (contacts.id) has white space at the start or end'],
    ['a\tb', 'external_contact_id (contacts.id) contains control characters'],
    ['x'.repeat(256), 'external_contact_id (contacts.id) is longer than 255 characters'],
    ['jose\u0301', 'external_contact_id (contacts.id) is not in Unicode NFC form, so it could collide with another id'],
    ['bad\uD800', 'external_contact_id (contacts.id) contains broken Unicode'],
  ])('id %j is skipped locally with its reason, never sent', (id, reason) => {
    const p = plan({ desired: [crm(id)] });
    expect(p.operations).toEqual([]);
    expect(p.skipped).toEqual([{ externalContactId: id, reason }]);
  });

  test('ids with "/", ":" and non-Latin letters are fine', () => {
    const p = plan({ desired: [crm('CRM/2024:7'), crm('연락처-1')] });
    expect(p.operations.map((o) => [o.kind, o.externalContactId])).toEqual([
      ['create', 'CRM/2024:7'],
      ['create', '연락처-1'],
    ]);
  });
});

describe('planSite: unaddressable contact_id (docs/CHEKT-AUTH-AND-IDS.md)', () => {
  const odd = (ext: string | null) => remote('1.5', ext, { unaddressable: 'contact_id 1.5 cannot be addressed' });

  it('leaves a desired contact CHeKT holds under an unaddressable id alone: no create, no update, reported', () => {
    const p = plan({ desired: [crm('a'), crm('b')], remote: [odd('a')], ledger: [ledger('a', '7')] });
    expect(p.operations.map((o) => [o.kind, o.externalContactId])).toEqual([['create', 'b']]);
    expect(p.unaddressable).toEqual([{ externalContactId: 'a', reason: 'contact_id 1.5 cannot be addressed' }]);
    expect(p.skipped).toEqual(p.unaddressable);
  });

  it('never deletes an unaddressable copy, even of a contact removed from the CRM; usable copies still go', () => {
    const p = plan({ desired: [], remote: [odd('gone'), remote('9', 'gone')], ledger: [ledger('gone', '9')] });
    expect(p.operations.map((o) => [o.kind, o.chektContactId])).toEqual([['delete', '9']]);
    expect(p.unmanaged).toBe(1);
  });
});
