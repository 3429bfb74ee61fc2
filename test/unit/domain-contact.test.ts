import type { ChektContact } from '../../src/domain/chektContact.js';
import {
  DEFAULT_RULES,
  changedFields,
  contentHash,
  prepareContact,
  remoteKeys,
  toCreateBody,
  toUpdateBody,
  type CrmContact,
  type DesiredContact,
  type NormalizeRules,
  type PreparedContact,
} from '../../src/domain/contact.js';

function crm(over: Partial<CrmContact> = {}): CrmContact {
  return {
    id: 'c-1',
    crmSiteId: 's-1',
    firstName: 'Ann',
    lastName: 'Lee',
    phoneNumber: '(201) 555-0123',
    email: 'ann@example.com',
    deletedAt: null,
    ...over,
  };
}

function remote(over: Partial<ChektContact> = {}): ChektContact {
  return {
    contactId: '7',
    externalContactId: 'c-1',
    firstName: 'Ann',
    lastName: 'Lee',
    phoneNumber: '+12015550123',
    email: 'ann@example.com',
    createdAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

function desired(over: Partial<CrmContact> = {}, rules: NormalizeRules = DEFAULT_RULES): DesiredContact {
  const p = prepareContact(crm(over), rules);
  if (!p.ok) throw new Error(`expected a valid contact, got: ${p.reason}`);
  return p.contact;
}

function skipped(p: PreparedContact): { externalContactId: string; reason: string } {
  if (p.ok) throw new Error('expected a skipped contact');
  return { externalContactId: p.externalContactId, reason: p.reason };
}

describe('DEFAULT_RULES', () => {
  it('has the documented defaults and is frozen', () => {
    expect(DEFAULT_RULES).toEqual({ defaultRegion: 'US', phoneFormat: 'E164', maxNameLength: 100, maxEmailLength: 254 });
    expect(Object.isFrozen(DEFAULT_RULES)).toBe(true);
  });
});

describe('prepareContact', () => {
  it('normalises a clean contact', () => {
    expect(desired({ firstName: '  Ann ', lastName: 'Lee\u00A0 ' })).toEqual({
      externalContactId: 'c-1',
      firstName: 'Ann',
      lastName: 'Lee',
      phone: { state: 'value', value: '+12015550123', key: '+12015550123', kind: 'fixed_line_or_mobile' },
      email: { state: 'value', value: 'ann@example.com', key: 'ann@example.com' },
      warnings: [],
    });
  });

  it.each([
    [{ firstName: '' }, 'first_name is empty'],
    [{ firstName: '   ' }, 'first_name is empty'],
    [{ firstName: '\u200B' }, 'first_name is empty'],
    [{ lastName: '\u00A0\t' }, 'last_name is empty'],
    [{ firstName: 'Ann\uD83D' }, 'first_name contains broken Unicode'],
    [{ lastName: '\uDE92Lee' }, 'last_name contains broken Unicode'],
  ] as const)('skips %j: %s', (over, reason) => {
    expect(skipped(prepareContact(crm(over)))).toEqual({ externalContactId: 'c-1', reason });
  });

  it('skips a contact whose name would be cut to nothing (one grapheme longer than the limit)', () => {
    // A single grapheme of 1 + 120 combining marks cannot be cut without splitting it: sending "" would
    // break CHeKT's required first_name, so the contact is skipped like an empty name.
    const zalgo = `Z${'\u0336'.repeat(120)}`;
    const p = prepareContact(crm({ firstName: zalgo }));
    expect(p.ok).toBe(false);
    expect(skipped(p)).toEqual({ externalContactId: 'c-1', reason: 'first_name is empty after truncation to 100 characters' });
  });

  it('drops an invalid phone with a warning, keeps the contact, and never sends it', () => {
    const d = desired({ phoneNumber: 'call me maybe' });
    expect(d.phone).toEqual({ state: 'invalid', reason: 'phone_number is not a phone number' });
    expect(d.warnings).toEqual(['phone_number is not a phone number; field not sent']);
    expect(toCreateBody(d)).not.toHaveProperty('phone_number');
    // Left out of the update too, so the working phone CHeKT already holds stays.
    expect(toUpdateBody(d)).toEqual({ first_name: 'Ann', last_name: 'Lee', email: 'ann@example.com' });
    expect(changedFields(d, remoteKeys(remote({ phoneNumber: '+12015550199' })))).toEqual([]);
  });

  it('drops an invalid email and broken Unicode in optional fields with warnings', () => {
    const d = desired({ email: 'ann@@example.com', phoneNumber: '201\uD800' });
    expect(d.email).toEqual({ state: 'invalid', reason: 'email is not a valid address' });
    expect(d.phone).toEqual({ state: 'invalid', reason: 'phone_number contains broken Unicode' });
    expect(d.warnings).toEqual(['phone_number contains broken Unicode; field not sent', 'email is not a valid address; field not sent']);
    expect(toUpdateBody(d)).toEqual({ first_name: 'Ann', last_name: 'Lee' });
  });

  it('rejects an email over maxEmailLength', () => {
    const long = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
    expect(long).toHaveLength(254);
    expect(desired({ email: long }).email.state).toBe('value');
    expect(desired({ email: `x${long}` }).email).toEqual({ state: 'invalid', reason: 'email is longer than 254 characters' });
  });

  it('treats an absent phone as "clear it": update body sends ""', () => {
    for (const phoneNumber of [null, '', '  \t ']) {
      const d = desired({ phoneNumber });
      expect(d.phone).toEqual({ state: 'absent' });
      expect(toUpdateBody(d).phone_number).toBe('');
      expect(d.warnings).toEqual([]);
    }
  });

  it('truncates a long name to maxNameLength code points with a warning', () => {
    const d = desired({ firstName: 'W'.repeat(150) });
    expect(d.firstName).toBe('W'.repeat(100));
    expect(d.warnings).toEqual(['first_name truncated to 100 characters']);
    const short = desired({ lastName: 'Abcdefghij' }, { ...DEFAULT_RULES, maxNameLength: 4 });
    expect(short.lastName).toBe('Abcd');
    expect(short.warnings).toEqual(['last_name truncated to 4 characters']);
  });

  it('uses the rules for phone region and format', () => {
    const d = desired({ phoneNumber: '02-312-3456' }, { ...DEFAULT_RULES, defaultRegion: 'KR', phoneFormat: 'INTERNATIONAL' });
    expect(d.phone).toEqual({ state: 'value', value: '+82 2 312 3456', key: '+8223123456', kind: 'fixed_line' });
  });

  it('sends a phone without its extension, with a warning that names no digits', () => {
    const d = desired({ phoneNumber: '+1 (201) 555-0100 ext 99999999' });
    expect([d.phone, d.warnings]).toEqual([
      { state: 'value', value: '+12015550100', key: '+12015550100', kind: 'fixed_line_or_mobile' },
      ['phone_number has an extension; sent without it (an SMS cannot dial an extension)'],
    ]);
    expect(toCreateBody(desired({ phoneNumber: '(201) 555-0199 x12' })).phone_number).toBe('+12015550199');
  });
});

describe('remoteKeys', () => {
  it('normalises CHeKT values the same way as CRM values', () => {
    expect(remoteKeys(remote({ firstName: ' Ann\t', lastName: 'Le\u200Be', phoneNumber: '201.555.0123', email: ' ANN@Example.com ' }))).toEqual({
      firstName: 'Ann',
      lastName: 'Lee',
      phone: '+12015550123',
      email: 'ann@example.com',
    });
  });

  it('keeps an unparseable CHeKT phone as text and maps blanks to null', () => {
    expect(remoteKeys(remote({ phoneNumber: ' office  line ', email: '', firstName: null }))).toEqual({
      firstName: null,
      lastName: 'Lee',
      phone: 'office line',
      email: null,
    });
  });
});

describe('changedFields', () => {
  const base = desired();

  it('reports nothing when CHeKT holds the same values in another spelling', () => {
    expect(changedFields(base, remoteKeys(remote({ phoneNumber: '(201) 555-0123', firstName: ' Ann ' })))).toEqual([]);
  });

  it('compares email case-insensitively', () => {
    const d = desired({ email: 'Ann@Example.COM' });
    expect(changedFields(d, remoteKeys(remote({ email: 'ann@example.com' })))).toEqual([]);
  });

  it('compares names case-sensitively', () => {
    expect(changedFields(base, remoteKeys(remote({ firstName: 'ann' })))).toEqual(['first_name']);
    expect(changedFields(base, remoteKeys(remote({ lastName: 'LEE' })))).toEqual(['last_name']);
  });

  it.each([
    [{ firstName: 'Anne' }, ['first_name']],
    [{ lastName: 'Li' }, ['last_name']],
    [{ phoneNumber: '+12015550199' }, ['phone_number']],
    [{ phoneNumber: null }, ['phone_number']],
    [{ email: 'other@example.com' }, ['email']],
    [{ email: null }, ['email']],
    [{ firstName: 'X', lastName: 'Y', phoneNumber: null, email: null }, ['first_name', 'last_name', 'phone_number', 'email']],
  ] as const)('CHeKT %j differs in %j', (over, fields) => {
    expect(changedFields(base, remoteKeys(remote(over)))).toEqual(fields);
  });

  it('reports an absent desired field that CHeKT still holds', () => {
    expect(changedFields(desired({ phoneNumber: null, email: '' }), remoteKeys(remote()))).toEqual(['phone_number', 'email']);
    expect(changedFields(desired({ phoneNumber: null, email: null }), remoteKeys(remote({ phoneNumber: '', email: ' ' })))).toEqual([]);
  });

  it('an extension in the CRM is not a difference (it is never sent); one still held by CHeKT is', () => {
    expect(changedFields(desired({ phoneNumber: '201-555-0123 ext. 5' }), remoteKeys(remote()))).toEqual([]);
    expect(changedFields(desired({}), remoteKeys(remote({ phoneNumber: '+12015550123 ext. 5' })))).toEqual(['phone_number']);
  });
});

describe('toCreateBody / toUpdateBody', () => {
  it('create body carries every present field in CHeKT spelling', () => {
    expect(toCreateBody(desired())).toEqual({
      external_contact_id: 'c-1',
      first_name: 'Ann',
      last_name: 'Lee',
      phone_number: '+12015550123',
      email: 'ann@example.com',
    });
  });

  it('create body omits absent optional fields (no keys, not undefined)', () => {
    const body = toCreateBody(desired({ phoneNumber: null, email: '   ' }));
    expect(body).toEqual({ external_contact_id: 'c-1', first_name: 'Ann', last_name: 'Lee' });
    expect(Object.keys(body)).toEqual(['external_contact_id', 'first_name', 'last_name']);
  });

  it('sends the email as written (case kept), compared lower-cased', () => {
    const d = desired({ email: 'Ann@Example.COM' });
    expect(toCreateBody(d).email).toBe('Ann@Example.COM');
    expect(d.email).toEqual({ state: 'value', value: 'Ann@Example.COM', key: 'ann@example.com' });
  });

  it('update body clears absent fields with "" and never carries external_contact_id', () => {
    expect(toUpdateBody(desired({ phoneNumber: null, email: null }))).toEqual({ first_name: 'Ann', last_name: 'Lee', phone_number: '', email: '' });
    expect(toUpdateBody(desired())).toEqual({ first_name: 'Ann', last_name: 'Lee', phone_number: '+12015550123', email: 'ann@example.com' });
  });
});

describe('contentHash', () => {
  it('is a stable sha256 hex for equal content', () => {
    const h = contentHash(desired());
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash(desired({ firstName: ' Ann ', phoneNumber: '201.555.0123' }))).toBe(h);
  });

  it.each([
    [{ id: 'c-2' }],
    [{ firstName: 'Anne' }],
    [{ lastName: 'Li' }],
    [{ phoneNumber: '+12015550199' }],
    [{ phoneNumber: null }],
    [{ phoneNumber: 'call me maybe' }],
    [{ email: 'other@example.com' }],
    [{ email: null }],
  ] as const)('changes when %j changes', (over) => {
    expect(contentHash(desired(over))).not.toBe(contentHash(desired()));
  });

  it('tells an absent field from an invalid one', () => {
    expect(contentHash(desired({ phoneNumber: null }))).not.toBe(contentHash(desired({ phoneNumber: 'call me maybe' })));
  });
});

describe('remoteKeys: phones CHeKT stores as bare digits', () => {
  test.each([
    ['33142685300', '+33142685300'],
    ['8223123456', '+8223123456'],
    ['2015550123', '+12015550123'],
    ['12015550123', '+12015550123'],
  ])('%s compares as %s', (digits, canonical) => {
    const keys = remoteKeys({ contactId: '1', externalContactId: 'x', firstName: 'A', lastName: 'B', phoneNumber: digits, email: null, createdAt: null });
    expect(keys.phone).toBe(canonical);
  });
});
