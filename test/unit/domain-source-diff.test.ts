import { describe, expect, it } from '@jest/globals';
import { checkSites, parseFlag, parseTimestamp, toCrmContact, type RawSiteRow } from '../../src/domain/crmRows.js';
import { SourceDiffer, type LedgerDiffRow } from '../../src/domain/sourceDiff.js';

/** The source contract's row checks and the change tick's streaming diff (docs/CRM.md#bad-rows, src/domain/sourceDiff.ts). */

const site = (id: string, dealer: string | null, chekt: string | null, enabled: string | null = 'true'): RawSiteRow => ({
  id,
  chekt_dealer_id: dealer,
  chekt_site_id: chekt,
  name: `Site ${id}`,
  sync_enabled: enabled,
});
const ledger = (siteId: string, ext: string, over: Partial<LedgerDiffRow> = {}): LedgerDiffRow => ({
  dealerId: '10',
  siteId,
  externalContactId: ext,
  crmHash: `fp-${ext}`,
  chektContactId: `c-${ext}`,
  pending: false,
  coolingHash: null,
  ...over,
});
const key = (siteId: string | null, id: string | null, fp = `fp-${id}`) => ({ site_id: siteId, id, fp });

describe('checkSites', () => {
  it('keeps usable sites and reports each unusable one with its reason', () => {
    const checked = checkSites([site('A', '10', '1'), site('B', '10', null), site('', '10', '3'), site('C', '10', '4', 'maybe'), site('D', '10', '5', 'f'), site('E', ' 10 ', ' 6 ')], true);
    expect([...checked.byId.keys()]).toEqual(['A', 'D', 'E']);
    expect(checked.byId.get('D')?.syncEnabled).toBe(false);
    expect(checked.byId.get('E')).toMatchObject({ dealerId: '10', siteId: '6' });
    expect(checked.problems).toEqual([
      { crmSiteId: 'B', externalContactId: null, reason: 'the site has no chekt_site_id: it is not synced' },
      { crmSiteId: null, externalContactId: null, reason: 'a site row has an empty id' },
      { crmSiteId: 'C', externalContactId: null, reason: 'sync_enabled "maybe" is not true or false: the site is not synced' },
    ]);
    expect([...checked.unusable].sort()).toEqual(['B', 'C']);
  });

  it('leaves out both rows of a duplicated id and every site mapped to a CHeKT site another one maps to', () => {
    const checked = checkSites([site('A', '10', '1'), site('A', '10', '2'), site('B', '10', '7'), site('C', '10', '7'), site('D', '10', '8')], true);
    expect([...checked.byId.keys()]).toEqual(['D']);
    expect([...checked.conflicted]).toEqual(['10/7']);
    expect(checked.problems.map((p) => [p.crmSiteId, p.reason])).toEqual([
      ['A', 'two site rows have this id: the site is not synced'],
      ['B', 'sites B, C all map to CHeKT site 10/7: none of them is synced'],
      ['C', 'sites B, C all map to CHeKT site 10/7: none of them is synced'],
    ]);
  });

  it('reads sync_enabled as PostgreSQL spells flags; an absent column enables every site, a NULL one is a problem', () => {
    expect(['true', 'T', 'yes', 'on', '1'].map((v) => parseFlag(v, true))).toEqual([true, true, true, true, true]);
    expect(['false', 'f', 'NO', 'off', '0'].map((v) => parseFlag(v, true))).toEqual([false, false, false, false, false]);
    expect(parseFlag(null, false)).toBe(true);
    expect(parseFlag(null, true)).toBe('sync_enabled is NULL (write true or false)');
  });
});

describe('contact rows', () => {
  it('a non-empty deleted_at removes the contact, whatever its text; an empty one is live', () => {
    const row = { id: '1', site_id: 'A', first_name: 'Ann', last_name: null, phone_number: null, email: null };
    expect(toCrmContact({ ...row, deleted_at: '' }).deletedAt).toBeNull();
    expect(toCrmContact({ ...row, deleted_at: '2026-12-01 10:00:00+00' }).deletedAt).toEqual(new Date('2026-12-01T10:00:00Z'));
    expect(toCrmContact({ ...row, deleted_at: 'Y' }).deletedAt).toEqual(new Date(0));
    expect(toCrmContact({ ...row, deleted_at: null }).lastName).toBe('');
  });

  it('parses PostgreSQL timestamps with and without a zone (without one: UTC, the session zone)', () => {
    expect(parseTimestamp('2026-12-01 10:00:00.5+02')).toEqual(new Date('2026-12-01T08:00:00.500Z'));
    expect(parseTimestamp('2026-12-01 10:00:00')).toEqual(new Date('2026-12-01T10:00:00Z'));
    expect(parseTimestamp('2026-12-01')).toEqual(new Date('2026-12-01T00:00:00Z'));
  });
});

describe('SourceDiffer', () => {
  const sites = () => checkSites([site('A', '10', '1'), site('B', '10', '2'), site('Z', '10', '9', 'false')], true);
  const diff = (ledgerRows: LedgerDiffRow[], keys: ReturnType<typeof key>[], scope: string[] | null = null) => {
    const d = new SourceDiffer(sites(), scope, 'delete');
    d.addLedger(ledgerRows);
    d.addKeys(keys.slice(0, 2));
    d.addKeys(keys.slice(2));
    return d.finish();
  };

  it('plans the rows whose fingerprint differs or whose change is pending, and the ledger contacts no longer live', () => {
    const r = diff(
      [ledger('1', 'same'), ledger('1', 'edited'), ledger('1', 'pending', { pending: true }), ledger('1', 'gone'), ledger('2', 'moved'), ledger('1', 'never', { chektContactId: null })],
      [key('A', 'same'), key('A', 'edited', 'fp-new'), key('A', 'pending'), key('B', 'new'), key('A', 'moved')],
    );
    expect(r.changed.map((c) => [c.site.crmSiteId, c.id, c.ledger?.chektContactId ?? null])).toEqual([
      ['A', 'edited', 'c-edited'],
      ['A', 'moved', null],
      ['A', 'pending', 'c-pending'],
      ['B', 'new', null],
    ]);
    // "moved" left site B for site A: a delete on B, a create on A; "never" was never in CHeKT.
    expect(r.removed.map((x) => [x.crmSiteId, x.externalContactId, x.chektContactId])).toEqual([
      ['A', 'gone', 'c-gone'],
      ['B', 'moved', 'c-moved'],
    ]);
    expect(r.problems).toEqual([]);
  });

  it('one id on two sites is two contacts, each diffed against its own site', () => {
    const r = diff([ledger('1', 'p'), ledger('2', 'p', { crmHash: 'old' })], [key('A', 'p'), key('B', 'p')]);
    expect(r.changed.map((c) => [c.site.crmSiteId, c.id])).toEqual([['B', 'p']]);
    expect(r.removed).toEqual([]);
  });

  it('a duplicated key is neither changed nor deleted, with or without a ledger row, and is reported once', () => {
    const r = diff([ledger('1', 'd', { crmHash: 'old' })], [key('A', 'd'), key('A', 'd'), key('A', 'd'), key('B', 'n'), key('B', 'n')]);
    expect(r.changed).toEqual([]);
    expect(r.removed).toEqual([]);
    expect(r.problems.map((p) => [p.crmSiteId, p.externalContactId])).toEqual([
      ['A', 'd'],
      ['B', 'n'],
    ]);
  });

  it('a failure cooling down is not planned again on the same fingerprint, nor a failed delete', () => {
    const r = diff([ledger('1', 'f', { crmHash: 'old', coolingHash: 'fp-f' }), ledger('1', 'x', { coolingHash: 'delete' })], [key('A', 'f')]);
    expect(r.changed).toEqual([]);
    expect(r.removed).toEqual([]);
    const changedAgain = diff([ledger('1', 'f', { crmHash: 'old', coolingHash: 'fp-f' })], [key('A', 'f', 'fp-newer')]);
    expect(changedAgain.changed.map((c) => c.id)).toEqual(['f']);
  });

  it('leaves disabled sites, sites out of scope and ledger sites no CRM site maps to alone', () => {
    const r = diff([ledger('9', 'off'), ledger('2', 'b'), ledger('5', 'unmapped')], [key('Z', 'new'), key('A', 'a')], ['A']);
    expect(r.changed.map((c) => c.id)).toEqual(['a']);
    expect(r.removed).toEqual([]);
  });

  it('reports rows with an empty key or an unknown site, and not the rows of an unusable site', () => {
    const d = new SourceDiffer(checkSites([site('A', '10', '1'), site('U', null, null)], true), null, 'delete');
    d.addKeys([key(null, 'x'), key('A', ' '), key('Q', 'y'), key('U', 'z')]);
    expect(d.finish().problems).toEqual([
      { crmSiteId: null, externalContactId: 'x', reason: 'a contact row has an empty site_id: it is not synced' },
      { crmSiteId: 'A', externalContactId: null, reason: 'a contact row has an empty id: it is not synced' },
      { crmSiteId: 'Q', externalContactId: 'y', reason: "the contact's site_id matches no site: it is not synced" },
    ]);
  });
});
