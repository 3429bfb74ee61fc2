import { SandboxStore } from '../../src/sandbox/store.js';
import { MAX_FIELD_LENGTH, validateCreateBody, validateUpdateBody } from '../../src/sandbox/validate.js';

const T0 = Date.parse('2026-01-02T03:04:05.678Z');
const john = { external_contact_id: 'c-1', first_name: 'John', last_name: 'Doe', phone_number: '1234567890', email: null };

function newStore() {
  let t = T0;
  const store = new SandboxStore({ now: () => t });
  return { store, advance: (ms: number) => void (t += ms) };
}

describe('SandboxStore', () => {
  it('knows a dealer only through its registered sites', () => {
    const { store } = newStore();
    expect(store.hasDealer('d1')).toBe(false);
    store.addSite('d1', 's1');
    store.addSite('d1', 's1');
    expect(store.hasDealer('d1')).toBe(true);
    expect(store.hasSite('d1', 's1')).toBe(true);
    expect(store.hasSite('d1', 's2')).toBe(false);
    expect(store.listSites()).toEqual([{ dealerId: 'd1', siteId: 's1', contacts: [] }]);
  });

  it('assigns contact_id across sites from 1 and created_at as ISO with ms and Z', () => {
    const { store, advance } = newStore();
    store.addSite('d1', 's1');
    store.addSite('d2', 's9');
    const a = store.create('d1', 's1', john);
    advance(1);
    const b = store.create('d2', 's9', john);
    expect(a).toEqual({ ok: true, contact: { contact_id: 1, ...john, created_at: '2026-01-02T03:04:05.678Z' } });
    expect(b).toEqual({ ok: true, contact: { contact_id: 2, ...john, created_at: '2026-01-02T03:04:05.679Z' } });
  });

  it('refuses a duplicate external_contact_id within one site only', () => {
    const { store } = newStore();
    store.addSite('d1', 's1');
    store.addSite('d1', 's2');
    store.create('d1', 's1', john);
    const dup = store.create('d1', 's1', { ...john, first_name: 'Other' });
    expect(dup).toMatchObject({ ok: false, reason: 'duplicate_external_contact_id', existing: { contact_id: 1 } });
    expect(store.create('d1', 's2', john).ok).toBe(true);
    expect(store.list('d1', 's1')).toHaveLength(1);
  });

  it('insert (dealer-side) skips uniqueness and registers the site', () => {
    const { store } = newStore();
    store.insert('d1', 's1', john);
    store.insert('d1', 's1', john);
    expect(store.list('d1', 's1').map((c) => c.contact_id)).toEqual([1, 2]);
    expect(store.hasSite('d1', 's1')).toBe(true);
  });

  it('lists sorted copies; scopes get/update/remove to the site', () => {
    const { store } = newStore();
    store.addSite('d1', 's1');
    store.addSite('d1', 's2');
    store.create('d1', 's1', john);
    store.create('d1', 's2', { ...john, external_contact_id: 'c-2' });
    store.create('d1', 's1', { ...john, external_contact_id: 'c-3' });
    const listed = store.list('d1', 's1');
    expect(listed.map((c) => c.contact_id)).toEqual([1, 3]);
    listed[0]!.first_name = 'mutated';
    expect(store.get('d1', 's1', 1)?.first_name).toBe('John');
    expect(store.get('d1', 's1', 2)).toBeUndefined();
    expect(store.update('d1', 's1', 2, { first_name: 'X' })).toBeUndefined();
    expect(store.remove('d1', 's1', 2)).toBe(false);
    expect(store.list('nope', 'nope')).toEqual([]);
  });

  it('update replaces present keys only and keeps contact_id/created_at', () => {
    const { store, advance } = newStore();
    store.addSite('d1', 's1');
    store.create('d1', 's1', john);
    advance(5000);
    expect(store.update('d1', 's1', 1, { last_name: 'Smith', phone_number: null })).toEqual({
      contact_id: 1,
      external_contact_id: 'c-1',
      first_name: 'John',
      last_name: 'Smith',
      phone_number: null,
      email: null,
      created_at: '2026-01-02T03:04:05.678Z',
    });
  });

  it('clearContacts keeps sites and restarts ids at 1', () => {
    const { store } = newStore();
    store.addSite('d1', 's1');
    store.create('d1', 's1', john);
    store.clearContacts();
    expect(store.hasSite('d1', 's1')).toBe(true);
    expect(store.list('d1', 's1')).toEqual([]);
    expect(store.create('d1', 's1', john)).toMatchObject({ contact: { contact_id: 1 } });
  });

  it('create on an unknown site throws (routes check first)', () => {
    expect(() => newStore().store.create('d', 's', john)).toThrow('unknown site d/s');
  });
});

describe('validateCreateBody', () => {
  const ok = { external_contact_id: '1234', first_name: 'John', last_name: 'Doe' };

  it('accepts the documented CHeKT example and fills absent optionals with null', () => {
    expect(validateCreateBody({ ...ok, extra: 1 })).toEqual({ ok: true, value: { ...ok, phone_number: null, email: null } });
    expect(validateCreateBody({ ...ok, phone_number: '', email: 'a@b.c' })).toEqual({
      ok: true,
      value: { ...ok, phone_number: null, email: 'a@b.c' },
    });
  });

  it.each([
    [{ first_name: 'J', last_name: 'D' }, 'missing_field', 'external_contact_id'],
    [{ ...ok, first_name: undefined }, 'missing_field', 'first_name'],
    [{ ...ok, last_name: null }, 'missing_field', 'last_name'],
    [{ ...ok, first_name: '   ' }, 'invalid_field', 'first_name'],
    [{ ...ok, external_contact_id: 1234 }, 'invalid_field', 'external_contact_id'],
    [{ ...ok, phone_number: 1234567890 }, 'invalid_field', 'phone_number'],
    [{ ...ok, email: ['a@b.c'] }, 'invalid_field', 'email'],
    [{ ...ok, last_name: 'x'.repeat(MAX_FIELD_LENGTH + 1) }, 'invalid_field', 'last_name'],
    [{ ...ok, email: 'é'.repeat(MAX_FIELD_LENGTH + 1) }, 'invalid_field', 'email'],
  ])('refuses %j with %s on %s', (body, code, field) => {
    expect(validateCreateBody(body)).toMatchObject({ ok: false, problem: { code, field } });
  });

  it('accepts exactly 255 code points (an emoji counts once)', () => {
    expect(validateCreateBody({ ...ok, first_name: '😀'.repeat(MAX_FIELD_LENGTH) }).ok).toBe(true);
  });

  it('refuses a body that is not an object, with no field', () => {
    for (const body of [undefined, null, 'x', [ok]]) {
      expect(validateCreateBody(body)).toEqual({
        ok: false,
        problem: { code: 'invalid_body', message: 'request body must be a JSON object' },
      });
    }
  });
});

describe('validateUpdateBody', () => {
  it('keeps present keys, clears phone/email with "" or null, ignores external_contact_id', () => {
    expect(validateUpdateBody({ first_name: 'Jane', phone_number: '', email: null, external_contact_id: 'zzz' })).toEqual({
      ok: true,
      value: { first_name: 'Jane', phone_number: null, email: null },
    });
    expect(validateUpdateBody({})).toEqual({ ok: true, value: {} });
  });

  it.each([
    [{ first_name: '' }, 'first_name'],
    [{ last_name: null }, 'last_name'],
    [{ last_name: 5 }, 'last_name'],
    [{ email: false }, 'email'],
    [{ phone_number: '1'.repeat(256) }, 'phone_number'],
  ])('refuses %j on %s', (body, field) => {
    expect(validateUpdateBody(body)).toMatchObject({ ok: false, problem: { code: 'invalid_field', field } });
  });
});
