import { describe, expect, it } from '@jest/globals';
import { planChanges, type ChangedRow, type RemovedRow } from '../../src/domain/changes.js';
import { contentHash, DEFAULT_RULES, prepareContact, type CrmContact } from '../../src/domain/contact.js';
import { crmContact } from './fakes/planner.js';

/** planChanges (domain/changes.ts): the pure core of every change tick. */

const crm = (id: string, over: Partial<CrmContact> = {}): CrmContact => crmContact(id, 'crm-1', over);

/** The hash of what CHeKT was last sent for `contact` (what the ledger keeps after a write). */
function sentHash(contact: CrmContact): string {
  const p = prepareContact(contact, DEFAULT_RULES);
  if (!p.ok) throw new Error(p.reason);
  return contentHash(p.contact);
}

function row(contact: CrmContact, over: Partial<ChangedRow> = {}): ChangedRow {
  return { contact, crmSiteId: 'crm-1', dealerId: '10', siteId: '7', fingerprint: `fp-${contact.id}`, chektContactId: null, lastSentHash: null, pending: false, ...over };
}

const plan = (changed: ChangedRow[], removed: RemovedRow[] = []) => planChanges(changed, removed, DEFAULT_RULES);

describe('planChanges', () => {
  it('creates a contact the ledger holds no CHeKT contact for', () => {
    expect(plan([row(crm('a'))])).toEqual({
      operations: [{ kind: 'create', opKey: 'op/10/7/a', dealerId: '10', siteId: '7', crmSiteId: 'crm-1', externalContactId: 'a', chektContactId: null, reason: 'new_in_crm', fields: [] }],
      settled: [],
      skipped: [],
      warnings: [],
    });
  });

  it('updates a contact whose content differs from what was last sent', () => {
    const before = crm('b');
    const p = plan([row(crm('b', { lastName: 'Moved' }), { chektContactId: '42', lastSentHash: sentHash(before) })]);
    expect(p.operations).toEqual([
      { kind: 'update', opKey: 'op/10/7/b', dealerId: '10', siteId: '7', crmSiteId: 'crm-1', externalContactId: 'b', chektContactId: '42', reason: 'changed_in_crm', fields: [] },
    ]);
    expect(p.settled).toEqual([]);
  });

  it('settles, with no operation, an edit that normalises to what CHeKT already holds', () => {
    // Added white space and another way of writing the same phone: the fingerprint changed, the content did not.
    const edited = crm('c', { firstName: '  Ann ', phoneNumber: '(201) 555-0123' });
    const p = plan([row(edited, { chektContactId: '43', lastSentHash: sentHash(crm('c')) })]);
    expect(p.operations).toEqual([]);
    expect(p.settled).toEqual([{ dealerId: '10', siteId: '7', externalContactId: 'c', fingerprint: 'fp-c', outcome: 'succeeded', reason: null }]);
  });

  it('never settles a pending contact: its job may be writing other values, so it is planned again', () => {
    const same = crm('d');
    const p = plan([row(same, { chektContactId: '44', lastSentHash: sentHash(same), pending: true })]);
    expect(p.settled).toEqual([]);
    expect(p.operations).toEqual([
      { kind: 'update', opKey: 'op/10/7/d', dealerId: '10', siteId: '7', crmSiteId: 'crm-1', externalContactId: 'd', chektContactId: '44', reason: 'changed_in_crm', fields: [] },
    ]);
  });

  it('creates (does not settle) equal content when the ledger holds no CHeKT contact', () => {
    const same = crm('e');
    const p = plan([row(same, { lastSentHash: sentHash(same) })]);
    expect(p.operations.map((o) => [o.kind, o.externalContactId])).toEqual([['create', 'e']]);
    expect(p.settled).toEqual([]);
  });

  it('skips an invalid contact with its reason and settles it as skipped', () => {
    const p = plan([row(crm('f', { firstName: ' ' }), { chektContactId: '45' })]);
    expect(p.operations).toEqual([]);
    expect(p.skipped).toEqual([{ site: '10/7', externalContactId: 'f', reason: 'first_name is empty' }]);
    expect(p.settled).toEqual([{ dealerId: '10', siteId: '7', externalContactId: 'f', fingerprint: 'fp-f', outcome: 'skipped', reason: 'first_name is empty' }]);
  });

  it('skips an unusable external_contact_id without settling it (it has no ledger row; reported each tick)', () => {
    const p = plan([row(crm(''))]);
    expect(p.skipped).toEqual([{ site: '10/7', externalContactId: '', reason: 'invalid external_contact_id' }]);
    expect(p.settled).toEqual([]);
    expect(p.operations).toEqual([]);
  });

  it('keeps field warnings of contacts that still sync', () => {
    const p = plan([row(crm('g', { phoneNumber: 'not a phone' }))]);
    expect(p.operations.map((o) => o.externalContactId)).toEqual(['g']);
    expect(p.warnings).toEqual([{ site: '10/7', externalContactId: 'g', reason: 'phone_number is not a phone number; field not sent' }]);
  });

  it('deletes a contact removed from the CRM, after the changed rows', () => {
    const removed: RemovedRow = { crmSiteId: 'crm-1', dealerId: '10', siteId: '7', externalContactId: 'gone', chektContactId: '99' };
    const p = plan([row(crm('a'))], [removed]);
    expect(p.operations.map((o) => [o.kind, o.externalContactId, o.reason])).toEqual([
      ['create', 'a', 'new_in_crm'],
      ['delete', 'gone', 'removed_from_crm'],
    ]);
    expect(p.operations[1]).toEqual({
      kind: 'delete',
      opKey: 'op/10/7/gone',
      dealerId: '10',
      siteId: '7',
      crmSiteId: 'crm-1',
      externalContactId: 'gone',
      chektContactId: '99',
      reason: 'removed_from_crm',
      fields: [],
    });
  });

  it('plans nothing for no rows', () => {
    expect(plan([], [])).toEqual({ operations: [], settled: [], skipped: [], warnings: [] });
  });
});
