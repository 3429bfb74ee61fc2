import { chektContactListSchema, chektContactSchema, parseTokenResponse, tokenResponseSchema } from '../../src/chekt/schemas.js';

const seedContact = {
  contact_id: 1,
  external_contact_id: '1234',
  first_name: 'John',
  last_name: 'Doe',
  phone_number: '1234567890',
  email: 'john.doe@example.com',
  created_at: '2021-07-01T00:00:00.000Z',
};

const mapped = {
  contactId: '1',
  externalContactId: '1234',
  firstName: 'John',
  lastName: 'Doe',
  phoneNumber: '1234567890',
  email: 'john.doe@example.com',
  createdAt: '2021-07-01T00:00:00.000Z',
};

describe('chektContactSchema', () => {
  it('maps the documented CHeKT response to ChektContact with a string contactId', () => {
    expect(chektContactSchema.parse(seedContact)).toEqual(mapped);
  });

  it('accepts string ids, extra fields, and null or missing optional fields', () => {
    expect(chektContactSchema.parse({ contact_id: 'c_789', first_name: 'A', email: null, updated_at: 'x', scope: 1 })).toEqual({
      contactId: 'c_789',
      externalContactId: null,
      firstName: 'A',
      lastName: null,
      phoneNumber: null,
      email: null,
      createdAt: null,
    });
  });

  it('turns numeric fields into strings', () => {
    expect(chektContactSchema.parse({ ...seedContact, phone_number: 1234567890, external_contact_id: 77 })).toMatchObject({
      phoneNumber: '1234567890',
      externalContactId: '77',
    });
  });

  it('rejects a missing or empty contact_id and non-objects', () => {
    expect(chektContactSchema.safeParse({ ...seedContact, contact_id: undefined }).success).toBe(false);
    expect(chektContactSchema.safeParse({ ...seedContact, contact_id: '' }).success).toBe(false);
    expect(chektContactSchema.safeParse({ ...seedContact, contact_id: null }).success).toBe(false);
    expect(chektContactSchema.safeParse('nope').success).toBe(false);
    expect(chektContactSchema.safeParse({ ...seedContact, first_name: { a: 1 } }).success).toBe(false);
  });
});

describe('chektContactListSchema', () => {
  it.each([
    ['a bare array', [seedContact]],
    ['{data:[...]}', { data: [seedContact] }],
    ['{contacts:[...]}', { contacts: [seedContact] }],
    ['{data:{contacts:[...]}}', { data: { contacts: [seedContact] }, meta: { page: 1 } }],
  ])('accepts %s', (_name, body) => {
    expect(chektContactListSchema.parse(body)).toEqual([mapped]);
  });

  it('accepts an empty list', () => {
    expect(chektContactListSchema.parse([])).toEqual([]);
  });

  it('fails the whole list when one item is bad, and rejects other shapes', () => {
    expect(chektContactListSchema.safeParse([seedContact, { contact_id: 2, first_name: { x: 1 } }]).success).toBe(false);
    expect(chektContactListSchema.safeParse({ items: [] }).success).toBe(false);
    expect(chektContactListSchema.safeParse(null).success).toBe(false);
    expect(chektContactListSchema.safeParse(seedContact).success).toBe(false);
  });

  it('keeps an item without a usable contact_id in the list, flagged unaddressable (never dropped: it would look deleted)', () => {
    const list = chektContactListSchema.parse([seedContact, { first_name: 'x', external_contact_id: 'e' }, { contact_id: null }, { contact_id: { id: 1 } }]);
    expect(list.map((c) => [c.contactId, c.unaddressable?.replace(/,.*$/, '')])).toEqual([
      ['1', undefined],
      ['', 'CHeKT listed this contact without a contact_id: it cannot be addressed'],
      ['null', 'CHeKT listed this contact without a contact_id: it cannot be addressed'],
      ['{"id":1}', 'CHeKT listed this contact with contact_id {"id":1}'],
    ]);
  });
});

describe('token response', () => {
  it('reads access_token, expires_in and token_type', () => {
    expect(parseTokenResponse({ access_token: 'abc', token_type: 'Bearer', expires_in: 86400, scope: 'read:sites' })).toEqual({
      accessToken: 'abc',
      expiresInSeconds: 86400,
      usedFallbackTtl: false,
      tokenType: 'Bearer',
    });
  });

  it('accepts a numeric-string expires_in', () => {
    expect(parseTokenResponse({ access_token: 'abc', expires_in: '120' })?.expiresInSeconds).toBe(120);
  });

  it('falls back (default 3600 s, configurable) when expires_in is missing, non-numeric or not positive', () => {
    expect(parseTokenResponse({ access_token: 'abc' })).toMatchObject({ expiresInSeconds: 3600, usedFallbackTtl: true });
    expect(parseTokenResponse({ access_token: 'abc', expires_in: 'soon' }, 600)).toMatchObject({ expiresInSeconds: 600, usedFallbackTtl: true });
    expect(parseTokenResponse({ access_token: 'abc', expires_in: 0 }, 600)?.expiresInSeconds).toBe(600);
    expect(parseTokenResponse({ access_token: 'abc', expires_in: null }, 600)?.expiresInSeconds).toBe(600);
  });

  it('rejects a body without a usable access_token', () => {
    expect(parseTokenResponse({ token_type: 'Bearer' })).toBeUndefined();
    expect(parseTokenResponse({ access_token: '' })).toBeUndefined();
    expect(parseTokenResponse(undefined)).toBeUndefined();
    expect(tokenResponseSchema.safeParse({ access_token: 5 }).success).toBe(false);
  });
});

describe('contact_id precision', () => {
  test('a contact_id beyond 2^53 is refused rather than rounded', () => {
    // eslint-disable-next-line no-loss-of-precision -- the rounding is the point: JSON.parse rounds this id the same way
    const r = chektContactSchema.safeParse({ contact_id: 9007199254740993, external_contact_id: 'x', first_name: 'a', last_name: 'b' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/2\^53/);
    expect(chektContactSchema.parse({ contact_id: 9007199254740991, external_contact_id: 'x' }).contactId).toBe('9007199254740991');
    expect(chektContactSchema.parse({ contact_id: '9007199254740993', external_contact_id: 'x' }).contactId).toBe('9007199254740993');
  });
});
