import { countSiteOperations, findHolds, resolveHolds, takesBelowSmsMinimum, type HoldRules, type SiteDeleteStats } from '../../src/domain/safety.js';
import type { PlannedOperation } from '../../src/domain/plan.js';
import type { SiteKey } from '../../src/domain/site.js';

const rules: HoldRules = { maxDeleteSharePercent: 10, minDeletesForShare: 2, minContacts: 1, windowSeconds: 3600 };
/** Test site keys are short names: only their identity matters to these rules. */
const key = (name: string) => name as SiteKey;
const stat = (site: string, over: Partial<SiteDeleteStats> = {}): SiteDeleteStats => ({ site: key(site), deletes: 0, managed: 10, live: 10, creates: 0, ...over });
const none = () => false;

describe('findHolds', () => {
  it('holds a site whose CRM list is empty, whatever the count', () => {
    const [hold] = findHolds([stat('1/1', { deletes: 1, managed: 1, live: 0 })], 100, rules, none);
    expect(hold).toMatchObject({ site: '1/1', deletes: 1, managed: 1 });
    expect(hold?.reason).toBe('the CRM lists no live contact for this site while 1 managed contact(s) would be deleted from CHeKT; approve with: npm run sync -- --site 1/1 --approve-deletes');
  });

  it('holds deletes above the share of a site from minDeletesForShare on: 2 of 10 held, 1 of 3 not', () => {
    expect(findHolds([stat('a', { deletes: 2 })], 1000, rules, none).map((h) => h.reason)).toEqual([
      '2 of 10 managed contacts (20 %) would be deleted, above DELETE_HOLD_SHARE_PERCENT=10; approve with: npm run sync -- --site a --approve-deletes',
    ]);
    expect(findHolds([stat('b', { deletes: 1, managed: 3, live: 2 })], 1000, rules, none)).toEqual([]);
  });

  it('counts the deletes of the window: one more delete after one a moment ago is 2 of 10, held', () => {
    const [hold] = findHolds([stat('a', { deletes: 1, managed: 9, live: 8, recentDeletes: 1 })], 1000, rules, none);
    expect(hold?.reason).toBe(
      '1 more delete(s) would make 2 of 10 contacts (20 %) deleted within DELETE_HOLD_WINDOW_SECONDS=3600, above DELETE_HOLD_SHARE_PERCENT=10; approve with: npm run sync -- --site a --approve-deletes',
    );
    expect(findHolds([stat('a', { deletes: 1, managed: 29, live: 28, recentDeletes: 1 })], 1000, rules, none)).toEqual([]);
  });

  it('exactly the share is not above it: 2 of 20 (10 %) passes', () => {
    expect(findHolds([stat('a', { deletes: 2, managed: 20 })], 1000, rules, none)).toEqual([]);
  });

  it('holds a delete that would leave fewer than minContacts, counting the planned creates', () => {
    expect(findHolds([stat('a', { deletes: 1, managed: 1, live: 1, creates: 0 })], 1000, rules, none)[0]?.reason).toMatch(/^deleting 1 contact\(s\) would leave 0 in CHeKT, below SITE_MIN_CONTACTS=1/);
    // A one-contact site whose contact is replaced: the create comes first, so it keeps 1.
    expect(findHolds([stat('a', { deletes: 1, managed: 1, live: 1, creates: 1 })], 1000, rules, none)).toEqual([]);
  });

  it('holds every site with deletes when the run as a whole exceeds the share', () => {
    const stats = [stat('a', { deletes: 1 }), stat('b', { deletes: 1 }), stat('c')];
    const holds = findHolds(stats, 15, rules, none);
    expect(holds.map((h) => h.site)).toEqual(['a', 'b']);
    expect(holds[0]?.reason).toMatch(/^this run would delete 2 of 15 managed contacts \(13.3 %\) across 2 site\(s\)/);
    expect(findHolds(stats, 30, rules, none)).toEqual([]);
  });

  it('approved sites are never held and do not count towards the run share', () => {
    const stats = [stat('a', { deletes: 5, live: 0 }), stat('b', { deletes: 1 })];
    expect(findHolds(stats, 20, rules, (s) => s === 'a')).toEqual([]);
  });

  it('a share of 100 % only holds empty lists and the minimum', () => {
    const all = { ...rules, maxDeleteSharePercent: 100 };
    expect(findHolds([stat('a', { deletes: 9 })], 10, all, none)).toEqual([]);
    expect(findHolds([stat('a', { deletes: 10, live: 0 })], 10, all, none)).toHaveLength(1);
  });
});

describe('countSiteOperations', () => {
  const op = (kind: PlannedOperation['kind'], siteId: string, reason: PlannedOperation['reason']): PlannedOperation => ({
    kind,
    opKey: `${kind}${siteId}${reason}`,
    dealerId: 'd',
    siteId,
    crmSiteId: `crm-${siteId}`,
    externalContactId: 'x',
    chektContactId: null,
    reason,
    fields: [],
  });
  it('counts holdable deletes and creates of sites with deletes; duplicates never count', () => {
    const counts = countSiteOperations([op('delete', '1', 'removed_from_crm'), op('create', '1', 'new_in_crm'), op('delete', '2', 'duplicate_in_chekt'), op('create', '3', 'new_in_crm')]);
    expect([...counts]).toEqual([['d/1', { crmSiteId: 'crm-1', deletes: 1, creates: 1 }]]);
  });
});

describe('resolveHolds', () => {
  const stored = new Map([[key('a'), { site: key('a'), deletes: 2, managed: 10, reason: 'stored reason' }]]);
  it('keeps a stored hold while the site has deletes, even when the rules alone would not hold it', () => {
    const r = resolveHolds({ stats: [stat('a', { deletes: 1, managed: 30, live: 29 })], totalManaged: 1000, rules, stored, approvalRequested: new Set() });
    expect(r.holds).toEqual([{ site: 'a', deletes: 1, managed: 30, reason: 'stored reason' }]);
    expect([...r.approved]).toEqual([]);
  });
  it('releases a stored hold when the site has no delete left (the CRM lists the contacts again)', () => {
    expect(resolveHolds({ stats: [], totalManaged: 1000, rules, stored, approvalRequested: new Set() }).holds).toEqual([]);
  });
  it('an approval covers the deletes the hold showed, not more; without a stored hold it approves nothing', () => {
    expect([...resolveHolds({ stats: [stat('a', { deletes: 2 })], totalManaged: 1000, rules, stored, approvalRequested: new Set([key('a')]) }).approved]).toEqual(['a']);
    const more = resolveHolds({ stats: [stat('a', { deletes: 3 })], totalManaged: 1000, rules, stored, approvalRequested: new Set([key('a')]) });
    expect([...more.approved]).toEqual([]);
    expect(more.holds[0]?.reason).toMatch(/^3 deletes planned, more than the 2 shown when the site was held/);
    const unheld = resolveHolds({ stats: [stat('b', { deletes: 5, live: 0 })], totalManaged: 1000, rules, stored, approvalRequested: new Set([key('b')]) });
    expect([...unheld.approved]).toEqual([]);
    expect(unheld.holds.map((h) => h.site)).toEqual(['b']);
  });
});

describe('findHolds: rule 3, SITE_MIN_SMS_CONTACTS', () => {
  const sms: HoldRules = { ...rules, minSmsContacts: 1 };
  const approve = '; approve with: npm run sync -- --site 9/9 --approve-deletes';

  it('holds the delete of the last SMS-capable contact, naming the rule', () => {
    const [hold] = findHolds([stat('9/9', { deletes: 1, managed: 20, live: 19, smsRemaining: 0, smsDeleted: 1 })], 1000, sms, none);
    expect(hold?.reason).toBe(
      `deleting 1 contact(s) (1 SMS-capable) would leave 0 SMS-capable contact(s), below SITE_MIN_SMS_CONTACTS=1: CHeKT's verification text would reach nobody on this site${approve}`,
    );
  });

  it('does not hold when another SMS-capable contact stays, or the deleted one was a landline', () => {
    expect(findHolds([stat('9/9', { deletes: 1, managed: 20, live: 19, smsRemaining: 1, smsDeleted: 1 })], 1000, sms, none)).toEqual([]);
    expect(findHolds([stat('9/9', { deletes: 1, managed: 20, live: 19, smsRemaining: 0, smsDeleted: 0 })], 1000, sms, none)).toEqual([]);
  });

  it('a site already below the minimum keeps its ordinary upkeep; with a minimum of 2, going from 2 to 1 is held', () => {
    const two: HoldRules = { ...rules, minSmsContacts: 2 };
    expect(findHolds([stat('9/9', { deletes: 1, managed: 20, live: 19, smsRemaining: 0, smsDeleted: 1 })], 1000, two, none)).toEqual([]);
    expect(findHolds([stat('9/9', { deletes: 1, managed: 20, live: 19, smsRemaining: 1, smsDeleted: 1 })], 1000, two, none).map((h) => h.reason)).toEqual([
      `deleting 1 contact(s) (1 SMS-capable) would leave 1 SMS-capable contact(s), below SITE_MIN_SMS_CONTACTS=2: CHeKT's verification text would reach fewer people on this site${approve}`,
    ]);
  });

  it('0 (or no minimum) turns the rule off; approval lifts it', () => {
    const s = stat('9/9', { deletes: 1, managed: 20, live: 19, smsRemaining: 0, smsDeleted: 1 });
    expect(findHolds([s], 1000, { ...rules, minSmsContacts: 0 }, none)).toEqual([]);
    expect(findHolds([s], 1000, rules, none)).toEqual([]);
    expect(findHolds([s], 1000, sms, () => true)).toEqual([]);
  });
});

describe('takesBelowSmsMinimum (the SMS rule on plain numbers, also used by the delete gate)', () => {
  it.each([
    [0, 1, 1, true],
    [1, 1, 1, false],
    [0, 0, 1, false],
    [0, 1, 2, false],
    [1, 1, 2, true],
    [0, 3, 2, true],
    [0, 1, 0, false],
  ])('remaining %i, deleted %i, minimum %i -> %s', (remaining, deleted, min, held) => {
    expect(takesBelowSmsMinimum(remaining, deleted, min)).toBe(held);
  });
});
