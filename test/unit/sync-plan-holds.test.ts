import { describe, expect, it } from '@jest/globals';
import type { SiteKey } from '../../src/domain/site.js';
import { planChangeTick, runNotifiedChanges } from '../../src/sync/control.js';
import { startRun } from '../../src/sync/startRun.js';
import { CLOCK, FakeWorld, type FailPoint } from './fakes/planner.js';

/**
 * The planner's deletion holds (domain/safety.ts, applied by src/sync/planRun.ts) and its rule that a failed read
 * plans nothing, over in-memory fakes of its ports (./fakes/planner.ts). Hold rules: 10 % share from 2 deletes,
 * at least 1 contact and 1 SMS-capable contact per site (./fakes/planner.ts `HOLD_RULES`).
 */

const SITE = '10/7' as SiteKey;
const GONE = new Date('2026-02-01T00:00:00Z');
const APPROVE = 'approve with: npm run sync -- --site 10/7 --approve-deletes';

/** CRM site crm-1 (CHeKT site 10/7) with `ids` synced to CHeKT as contacts 41, 42, ... */
function syncedWorld(ids: string[], phone?: (id: string) => string): FakeWorld {
  const w = new FakeWorld();
  w.site('crm-1', '10/7');
  ids.forEach((id, i) => w.synced(w.contact(id, 'crm-1', phone ? { phoneNumber: phone(id) } : {}), String(41 + i)));
  return w;
}

const remove = (w: FakeWorld, ...ids: string[]) => ids.forEach((id) => w.edit(id, { deletedAt: GONE }));
const storeHold = (w: FakeWorld, deletes: number, managed: number, reason: string) => w.holds.set(SITE, { site: SITE, reason, deletes, managed, runId: 'run-old', heldAt: CLOCK });

describe('deletion holds', () => {
  it('a change tick that would empty a site holds its deletes, records the run for the new hold, and enqueues none', async () => {
    const w = syncedWorld(['b', 'c']);
    remove(w, 'b', 'c');

    const tick = await planChangeTick(w.deps(), 'run-1');

    expect(tick.runId).toBe('run-1');
    expect(tick.totals).toMatchObject({ deletes: 2, held: 2 });
    expect(w.enqueuedOps()).toEqual([]);
    const reason = `the CRM lists no live contact for this site while 2 managed contact(s) would be deleted from CHeKT; ${APPROVE}`;
    expect([...w.holds.values()]).toEqual([{ site: SITE, reason, deletes: 2, managed: 2, runId: 'run-1', heldAt: CLOCK }]);
    const run = w.runs.get('run-1')!;
    expect(Object.fromEntries(run.operations)).toEqual({ 'op/10/7/b': 'held', 'op/10/7/c': 'held' });
    expect(run.status).toBe('completed');
    expect([w.ledgerRow('10/7', 'b')?.pending, w.ledgerRow('10/7', 'c')?.pending]).toEqual([false, false]);
  });

  it('holds a site whose deletes would leave no SMS-capable contact', async () => {
    // b has a North American number (SMS-capable), c a London landline.
    const w = syncedWorld(['b', 'c'], (id) => (id === 'b' ? '+1 201 555 0123' : '+44 20 7946 0000'));
    remove(w, 'b');

    const tick = await planChangeTick(w.deps(), 'run-sms');

    expect(tick.totals).toMatchObject({ deletes: 1, held: 1 });
    expect(w.enqueuedOps()).toEqual([]);
    expect(w.holds.get(SITE)?.reason).toBe(
      `deleting 1 contact(s) (1 SMS-capable) would leave 0 SMS-capable contact(s), below SITE_MIN_SMS_CONTACTS=1: CHeKT's verification text would reach nobody on this site; ${APPROVE}`,
    );
    expect(w.runs.get('run-sms')?.summary?.unreachableSites).toEqual([{ site: '10/7', contacts: 1, smsCapable: 0, reason: '1 contact: 1 landline' }]);
  });

  it('is sticky: a narrower plan whose rules alone would not hold the site keeps it held, and records no run', async () => {
    const w = syncedWorld(['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k']);
    storeHold(w, 1, 10, `held by an earlier run; ${APPROVE}`);
    // 1 delete of 10 managed: under every rule (the share rule starts at 2 deletes).
    remove(w, 'b');

    const outcome = await runNotifiedChanges(w.deps(), ['crm-1'], 'run-narrow');

    expect(outcome).toEqual({ runId: null, totals: expect.objectContaining({ deletes: 1, held: 1 }) });
    expect(w.enqueuedOps()).toEqual([]);
    expect(w.holds.get(SITE)).toMatchObject({ reason: `held by an earlier run; ${APPROVE}`, deletes: 1, runId: null });
    expect(w.runs.size).toBe(0);
  });

  it('is released when the CRM lists the contacts again (no holdable delete left)', async () => {
    const w = syncedWorld(['b', 'c']);
    storeHold(w, 2, 2, `held; ${APPROVE}`);

    await planChangeTick(w.deps(), 'run-back');

    expect(w.holds.size).toBe(0);
  });

  it('an approval makes exactly the deletes the hold showed, with the approval on their jobs', async () => {
    const w = syncedWorld(['b', 'c', 'd', 'e']);
    remove(w, 'b', 'c');
    storeHold(w, 2, 4, `2 of 4 managed contacts (50 %) would be deleted; ${APPROVE}`);

    const { summary } = await startRun(w.deps(), { trigger: 'cli', sites: [{ dealerId: '10', siteId: '7' }], dryRun: false, approveDeletes: true });

    expect(summary.held).toEqual([]);
    expect(w.enqueuedOps()).toEqual(['delete b removed_from_crm', 'delete c removed_from_crm']);
    expect(w.enqueued[0]?.approveDeletes).toEqual(new Set([SITE]));
    expect(w.holds.size).toBe(0);
    expect([...w.runs.values()][0]).toMatchObject({ approveDeletes: true, sites: ['10/7'], mode: 'reconcile' });
  });

  it('an approval covers only what was shown: more deletes than the hold showed stay held, with their own reason', async () => {
    const w = syncedWorld(['b', 'c', 'd', 'e', 'f']);
    remove(w, 'b', 'c', 'd');
    storeHold(w, 2, 5, `2 of 5 managed contacts (40 %) would be deleted; ${APPROVE}`);

    const { summary } = await startRun(w.deps(), { trigger: 'cli', sites: [{ dealerId: '10', siteId: '7' }], dryRun: false, approveDeletes: true });

    const reason = '3 deletes planned, more than the 2 shown when the site was held; check the CRM and approve again: npm run sync -- --site 10/7 --approve-deletes';
    expect(summary.held).toEqual([{ site: SITE, reason, deletes: 3, managed: 5 }]);
    expect(w.enqueuedOps()).toEqual([]);
    expect(w.enqueued[0]?.approveDeletes).toEqual(new Set());
    expect(w.holds.get(SITE)?.reason).toBe(reason);
  });

  it('a resync naming a held site without approving its deletes keeps it held', async () => {
    const w = syncedWorld(['b', 'c', 'd', 'e']);
    remove(w, 'b', 'c');
    storeHold(w, 2, 4, `held; ${APPROVE}`);

    const { summary } = await startRun(w.deps(), { trigger: 'cli', sites: [{ dealerId: '10', siteId: '7' }], dryRun: false });

    // The rules' own reason, now that the plan shows the numbers again.
    expect(summary.held).toEqual([{ site: SITE, reason: `2 of 4 managed contacts (50 %) would be deleted, above DELETE_HOLD_SHARE_PERCENT=10; ${APPROVE}`, deletes: 2, managed: 4 }]);
    expect(w.enqueuedOps()).toEqual([]);
  });

  it('an approval without named sites approves nothing', async () => {
    const w = syncedWorld(['b', 'c', 'd', 'e']);
    remove(w, 'b', 'c');
    storeHold(w, 2, 4, `held; ${APPROVE}`);

    const { summary } = await startRun(w.deps(), { trigger: 'cli', sites: [], dryRun: false, approveDeletes: true });

    expect(summary.held.map((h) => h.site)).toEqual([SITE]);
    expect(w.enqueuedOps()).toEqual([]);
    expect([...w.runs.values()][0]?.approveDeletes).toBe(false);
  });
});

describe('a failed read plans nothing', () => {
  const ledgerWrites = (w: FakeWorld) => w.calls.filter((c) => /^(ledger\.(adopt|settle|markPending)|holds\.save|runs\.(recordPlan|recordEnqueued)|operations\.enqueue)$/.test(c));

  it.each<[string, FailPoint]>([
    ['the changed and removed contacts', 'changes.readChanges'],
    ['the holds', 'holds.read'],
    ['the site counts', 'changes.readSiteCounts'],
    ['the reachability', 'reach.readSentReach'],
  ])('a change run whose read of %s fails is marked failed, with no job and no write', async (_what, point) => {
    const w = syncedWorld(['b', 'c', 'd', 'e']);
    w.contact('a', 'crm-1');
    remove(w, 'b');
    w.failing.add(point);

    await expect(startRun(w.deps(), { mode: 'changes', trigger: 'cli', dryRun: false, runId: 'run-f' })).rejects.toThrow(`${point}: connection refused`);

    expect(w.runs.get('run-f')).toMatchObject({ status: 'failed', error: `CRM read failed; nothing planned: ${point}: connection refused` });
    expect(ledgerWrites(w)).toEqual([]);
    expect(w.enqueued).toEqual([]);
  });

  it('a reconcile whose read of live contacts fails is marked failed, and lists no CHeKT site', async () => {
    const w = syncedWorld(['b']);
    w.failing.add('crm.readSiteContacts');

    await expect(startRun(w.deps(), { trigger: 'cli', sites: [], dryRun: false, runId: 'run-r' })).rejects.toThrow('crm.readSiteContacts: connection refused');

    expect(w.runs.get('run-r')?.status).toBe('failed');
    expect(w.chektCalls).toEqual([]);
    expect(ledgerWrites(w)).toEqual([]);
  });

  it('a scheduled tick whose read fails throws and writes no run at all', async () => {
    const w = syncedWorld(['b']);
    w.contact('a', 'crm-1');
    w.failing.add('changes.readChanges');

    await expect(planChangeTick(w.deps(), 'run-t')).rejects.toThrow('changes.readChanges: connection refused');

    expect(w.runs.size).toBe(0);
    expect(w.calls).not.toContain('runs.fail');
    expect(ledgerWrites(w)).toEqual([]);
  });
});
