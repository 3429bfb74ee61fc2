import { DEFAULT_RULES, prepareContact, type CrmContact } from '../../src/domain/contact.js';
import { decideAction, type DecideInput } from '../../src/domain/decide.js';

const CRM_SITE = 'crm-site-1';

function crm(over: Partial<CrmContact> = {}): CrmContact {
  return {
    id: 'c-1',
    crmSiteId: CRM_SITE,
    firstName: 'Ann',
    lastName: 'Lee',
    phoneNumber: '201.555.0123',
    email: 'ann@example.com',
    deletedAt: null,
    ...over,
  };
}

function input(over: Partial<DecideInput> = {}): DecideInput {
  return {
    reason: 'fields_differ',
    crmSiteId: CRM_SITE,
    plannedChektContactId: '7',
    crm: crm(),
    site: { id: CRM_SITE, syncEnabled: true },
    ledgerChektContactId: '7',
    rules: DEFAULT_RULES,
    ...over,
  };
}

const expected = prepareContact(crm());
if (!expected.ok) throw new Error('fixture contact must be valid');
const contact = expected.contact;

describe('decideAction: site checks come first and never delete', () => {
  const reasons = ['missing_in_chekt', 'fields_differ', 'removed_from_crm', 'duplicate_in_chekt'] as const;

  it.each(reasons)('site gone (%s) -> skip', (reason) => {
    expect(decideAction(input({ reason, site: null }))).toEqual({ type: 'skip', reason: 'site no longer in the CRM; left as it is in CHeKT' });
  });

  it.each(reasons)('site sync disabled (%s) -> skip', (reason) => {
    expect(decideAction(input({ reason, site: { id: CRM_SITE, syncEnabled: false } }))).toEqual({
      type: 'skip',
      reason: 'site sync is disabled; left as it is in CHeKT',
    });
  });

  it('skips a soft-deleted contact on a disabled site instead of deleting it', () => {
    const a = decideAction(input({ reason: 'removed_from_crm', crm: crm({ deletedAt: new Date() }), site: { id: CRM_SITE, syncEnabled: false } }));
    expect(a.type).toBe('skip');
  });
});

describe('decideAction: contact gone from this site', () => {
  it('soft-deleted contact with a planned contact id -> delete that id', () => {
    expect(decideAction(input({ reason: 'removed_from_crm', crm: crm({ deletedAt: new Date('2026-02-01T00:00:00Z') }), ledgerChektContactId: null }))).toEqual({
      type: 'delete',
      chektContactId: '7',
    });
  });

  it('hard-deleted contact known only to the ledger, its delete planned -> delete the ledger id', () => {
    expect(decideAction(input({ reason: 'fields_differ', crm: null, plannedChektContactId: null, ledgerChektContactId: '12', deletePlanned: true }))).toEqual({
      type: 'delete',
      chektContactId: '12',
    });
  });

  it('the planned id wins over the ledger id', () => {
    expect(decideAction(input({ crm: null, plannedChektContactId: '7', ledgerChektContactId: '12', deletePlanned: true }))).toEqual({ type: 'delete', chektContactId: '7' });
  });

  it('an update whose contact was removed after planning is skipped, not turned into a delete past the holds', () => {
    expect(decideAction(input({ reason: 'changed_in_crm', crm: crm({ deletedAt: new Date() }) }))).toEqual({
      type: 'skip',
      reason: 'removed from the CRM after planning; the next plan deletes it, under the deletion holds',
    });
  });

  it('deleted contact with no known contact id -> skip', () => {
    expect(decideAction(input({ reason: 'missing_in_chekt', crm: crm({ deletedAt: new Date() }), plannedChektContactId: null, ledgerChektContactId: null }))).toEqual({
      type: 'skip',
      reason: 'not in CHeKT; nothing to delete',
    });
  });

  it('contact moved to another CRM site, its delete planned -> delete it from the planned site', () => {
    expect(decideAction(input({ crm: crm({ crmSiteId: 'crm-site-2' }), deletePlanned: true }))).toEqual({ type: 'delete', chektContactId: '7' });
  });
});

describe('decideAction: live contact', () => {
  it('valid, no contact id known -> create with the current CRM values', () => {
    expect(decideAction(input({ reason: 'missing_in_chekt', plannedChektContactId: null, ledgerChektContactId: null }))).toEqual({ type: 'create', contact });
  });

  it('valid, planned as a create but the ledger now knows an id (earlier try landed) -> update', () => {
    expect(decideAction(input({ reason: 'missing_in_chekt', plannedChektContactId: null, ledgerChektContactId: '12' }))).toEqual({
      type: 'update',
      contact,
      chektContactId: '12',
    });
  });

  it('valid with a known id -> update, using the values read now', () => {
    const a = decideAction(input({ crm: crm({ firstName: ' Annie ' }) }));
    expect(a).toEqual({ type: 'update', contact: { ...contact, firstName: 'Annie' }, chektContactId: '7' });
  });

  it('planned as removed but back in the CRM -> update, not delete', () => {
    expect(decideAction(input({ reason: 'removed_from_crm' }))).toEqual({ type: 'update', contact, chektContactId: '7' });
  });

  it('invalid now -> skip with the validation reason (never delete)', () => {
    expect(decideAction(input({ crm: crm({ firstName: '  ' }) }))).toEqual({ type: 'skip', reason: 'first_name is empty' });
    expect(decideAction(input({ crm: crm({ lastName: 'x\uDC00' }), plannedChektContactId: null }))).toEqual({ type: 'skip', reason: 'last_name contains broken Unicode' });
  });

  it('uses the rules it is given', () => {
    const a = decideAction(input({ plannedChektContactId: null, ledgerChektContactId: null, rules: { ...DEFAULT_RULES, maxNameLength: 2 } }));
    expect(a).toMatchObject({ type: 'create', contact: { firstName: 'An', lastName: 'Le' } });
  });
});

describe('decideAction: duplicate copies', () => {
  it('deletes exactly the planned contact id, whatever the CRM row or ledger say', () => {
    expect(decideAction(input({ reason: 'duplicate_in_chekt', plannedChektContactId: '99', ledgerChektContactId: '7' }))).toEqual({ type: 'delete', chektContactId: '99' });
    expect(decideAction(input({ reason: 'duplicate_in_chekt', plannedChektContactId: '99', crm: null, ledgerChektContactId: null }))).toEqual({ type: 'delete', chektContactId: '99' });
  });

  it('skips when no contact id was planned (never falls back to the ledger copy)', () => {
    expect(decideAction(input({ reason: 'duplicate_in_chekt', plannedChektContactId: null, ledgerChektContactId: '7' }))).toEqual({ type: 'skip', reason: 'duplicate already gone' });
  });
});

describe('decideAction: a duplicate that became the kept copy', () => {
  test('is not deleted when the ledger now points at it', () => {
    const action = decideAction({
      reason: 'duplicate_in_chekt',
      crmSiteId: 's',
      plannedChektContactId: '9',
      crm: null,
      site: { id: 's', syncEnabled: true },
      ledgerChektContactId: '9',
      rules: DEFAULT_RULES,
    });
    expect(action).toEqual({ type: 'skip', reason: 'this copy is now the one the ledger keeps' });
  });
});

describe("decideAction: drift_deleted (the ledger's contact vanished from CHeKT at planning)", () => {
  it('creates anew while the ledger still holds the vanished id (no PUT that would 404)', () => {
    expect(decideAction(input({ reason: 'drift_deleted', plannedChektContactId: '7', ledgerChektContactId: '7' }))).toEqual({ type: 'create', contact });
  });

  it('updates the contact created since planning when the ledger now holds another id', () => {
    expect(decideAction(input({ reason: 'drift_deleted', plannedChektContactId: '7', ledgerChektContactId: '9' }))).toEqual({ type: 'update', contact, chektContactId: '9' });
  });

  it('skips when the CRM contact was removed meanwhile (nothing left in CHeKT to delete)', () => {
    expect(decideAction(input({ reason: 'drift_deleted', crm: crm({ deletedAt: new Date() }) }))).toEqual({ type: 'skip', reason: 'not in CHeKT; nothing to delete' });
  });
});
