import { describe, expect, it } from '@jest/globals';
import { ChektNotFoundError } from '../../src/chekt/errors/index.js';
import { MAX_WAIT_MS } from '../../src/sync/deleteGate.js';
import { runOperation } from '../../src/sync/runOperation.js';
import { siteKey } from '../../src/domain/site.js';
import { attemptOf, crm, fakeDeps, newWorld, plan, SITE, synced, type World } from './fakes/operations.js';

/**
 * The worker's delete gate (src/sync/deleteGate.ts) through the lifecycle, over in-memory fakes: a held delete is
 * never sent, add before remove, the site minimums (SITE_MIN_CONTACTS, SITE_MIN_SMS_CONTACTS), an operator's
 * approval, and one delete at a time per site. The fakes' defaults: both minimums 1.
 */

const APPROVE = '; approve with: npm run sync -- --site 10/1 --approve-deletes';

/** A site with the given synced contacts, the first one removed from the CRM and its delete planned. */
function deleting(w: World, ids: string[], phones: Record<string, string | null> = {}) {
  const contactIds = ids.map((id) => synced(w, crm(id, { phoneNumber: id in phones ? phones[id]! : '+12015550123' })));
  w.contacts.set(ids[0]!, crm(ids[0]!, { deletedAt: new Date(1) }));
  return plan(w, { kind: 'delete', externalContactId: ids[0]!, chektContactId: contactIds[0]! });
}

const deletesSent = (w: World) => w.calls.filter((c) => c.method === 'DELETE').length;
const inChekt = (w: World) => (w.chekt.get('10/1') ?? []).map((c) => c.externalContactId);

describe('the delete gate', () => {
  it('deleting the last managed contact is held: nothing sent, the hold stored, the run and ledger say held', async () => {
    const w = newWorld();
    const op = deleting(w, ['c1']);
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    const reason = `deleting would leave 0 contact(s) in CHeKT, below SITE_MIN_CONTACTS=1${APPROVE}`;
    expect(out).toEqual({ type: 'done', result: { appliedKind: 'skip', outcome: 'held', detail: reason, passes: 1 } });
    expect(deletesSent(w)).toBe(0);
    expect(inChekt(w)).toEqual(['c1']);
    expect(w.holds.get('10/1')).toEqual({ site: '10/1', reason, deletes: 1, managed: 1, runId: 'run-1' });
    expect(w.operations[0]).toMatchObject({ outcome: 'held', appliedKind: 'skip', error: reason });
    expect(w.ledger.get('10/1\nc1')).toMatchObject({ lastOutcome: 'held', chektContactId: expect.any(String) });
  });

  it("an operator's approval lifts the minimum: the delete is sent and the ledger forgets the contact_id", async () => {
    const w = newWorld();
    const op = { ...deleting(w, ['c1']), approveDeletes: true };
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    expect(out.type === 'done' && out.result).toMatchObject({ appliedKind: 'delete', outcome: 'succeeded' });
    expect(inChekt(w)).toEqual([]);
    expect(w.ledger.get('10/1\nc1')).toMatchObject({ chektContactId: null, crmHash: null, lastOutcome: 'succeeded' });
  });

  it('with another SMS-capable contact left, the delete goes', async () => {
    const w = newWorld();
    const op = deleting(w, ['c1', 'c2']);
    await runOperation(fakeDeps(w), attemptOf(op));
    expect(inChekt(w)).toEqual(['c2']);
    expect(w.holds.size).toBe(0);
  });

  it('a site on hold keeps its deletes until approved, whatever remains', async () => {
    const w = newWorld();
    const op = deleting(w, ['c1', 'c2', 'c3']);
    w.holds.set('10/1', { site: siteKey(SITE), reason: 'share', deletes: 2, managed: 3, runId: 'run-0' });
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    expect(out.type === 'done' && out.result.detail).toBe(`the site is on hold; its deletes wait for approval${APPROVE}`);
    expect(deletesSent(w)).toBe(0);
  });

  it('add before remove: while a create on the site is queued the delete waits, then after MAX_WAIT_MS the minimum decides', async () => {
    const w = newWorld();
    const op = deleting(w, ['c1', 'c2']);
    w.contacts.set('c9', crm('c9'));
    plan(w, { kind: 'create', externalContactId: 'c9' });
    expect(await runOperation(fakeDeps(w), attemptOf(op))).toEqual({ type: 'wait', delayMs: 1000 });
    expect(deletesSent(w)).toBe(0);
    expect(w.operations.map((o) => o.outcome)).toEqual(['queued', 'queued']);
    // A delete enqueued longer ago than MAX_WAIT_MS stops waiting.
    const late = await runOperation(fakeDeps(w, { deleteWaitMs: 5 }), attemptOf({ ...op, enqueuedAt: w.clock - MAX_WAIT_MS - 1 }));
    expect(late.type === 'done' && late.result.outcome).toBe('succeeded');
    expect(inChekt(w)).toEqual(['c2']);
  });

  it('a create of the same contact on another site (it moved) also makes the delete wait', async () => {
    const w = newWorld();
    const op = deleting(w, ['c1', 'c2']);
    w.sites.set('s2', { dealerId: '10', siteId: '2', syncEnabled: true });
    plan(w, { kind: 'create', externalContactId: 'c1', site: { dealerId: '10', siteId: '2' }, crmSiteId: 's2' });
    expect((await runOperation(fakeDeps(w), attemptOf(op))).type).toBe('wait');
  });

  it("a create that failed for good in the same run holds the site's deletes (its replacement is missing)", async () => {
    const w = newWorld();
    const op = deleting(w, ['c1', 'c2', 'c3']);
    w.contacts.set('c9', crm('c9'));
    plan(w, { kind: 'create', externalContactId: 'c9' });
    w.operations[1]!.outcome = 'failed';
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    expect(out.type === 'done' && out.result.detail).toBe(`a create on this site failed in the same run: add before remove, so this delete waits${APPROVE}`);
    expect(deletesSent(w)).toBe(0);
  });

  it('SITE_MIN_SMS_CONTACTS: deleting the last SMS-capable contact is held though a landline remains', async () => {
    const w = newWorld();
    const op = deleting(w, ['c1', 'c2'], { c2: '+493090182000' });
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    expect(out.type === 'done' && out.result.detail).toBe(`deleting would leave 0 SMS-capable contact(s) in CHeKT, below SITE_MIN_SMS_CONTACTS=1${APPROVE}`);
    expect(deletesSent(w)).toBe(0);
    // Off (0): the same delete goes.
    const w2 = newWorld();
    const op2 = deleting(w2, ['c1', 'c2'], { c2: '+493090182000' });
    await runOperation(fakeDeps(w2, { siteMinSmsContacts: 0 }), attemptOf(op2));
    expect(inChekt(w2)).toEqual(['c2']);
  });

  it('SITE_MIN_SMS_CONTACTS counts what CHeKT kept: a phone the echo check found dropped is not SMS-capable', async () => {
    const w = newWorld();
    const op = deleting(w, ['c1', 'c2']);
    w.ledger.get('10/1\nc2')!.reachProblem = 'CHeKT dropped the phone number it was sent';
    expect((await runOperation(fakeDeps(w), attemptOf(op))).type === 'done' && w.holds.size).toBe(1);
    expect(deletesSent(w)).toBe(0);
  });

  it('a contact that was not SMS-capable is deleted even when it leaves the site without one', async () => {
    const w = newWorld();
    const op = deleting(w, ['c1', 'c2'], { c1: '+493090182000', c2: null });
    await runOperation(fakeDeps(w), attemptOf(op));
    expect(inChekt(w)).toEqual(['c2']);
  });

  it('two deletes of one site at once: the second sees the first one done, and is held at the minimum', async () => {
    const w = newWorld();
    const ids = ['c1', 'c2'].map((id) => synced(w, crm(id)));
    for (const id of ['c1', 'c2']) w.contacts.set(id, crm(id, { deletedAt: new Date(1) }));
    const ops = ['c1', 'c2'].map((ext, i) => plan(w, { kind: 'delete', externalContactId: ext, chektContactId: ids[i]! }));
    const deps = fakeDeps(w);
    const outs = await Promise.all(ops.map((op) => runOperation(deps, attemptOf(op))));
    expect(outs.map((o) => o.type === 'done' && o.result.outcome)).toEqual(['succeeded', 'held']);
    expect(inChekt(w)).toEqual(['c2']);
  });

  it('a delete answered 404 is done (CHeKT no longer has it)', async () => {
    const w = newWorld();
    const op = deleting(w, ['c1', 'c2']);
    w.failNext.set('DELETE', [new ChektNotFoundError({ endpoint: 'DELETE contacts/{id}', status: 404 })]);
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    expect(out.type === 'done' && out.result).toMatchObject({ appliedKind: 'delete', outcome: 'succeeded' });
    expect(w.ledger.get('10/1\nc1')?.chektContactId).toBeNull();
  });

  it('an extra copy in CHeKT (duplicate) is deleted without the gate, and the ledger keeps its own copy', async () => {
    const w = newWorld();
    const own = synced(w, crm('c1'));
    w.chekt.get('10/1')!.push({ contactId: '777', externalContactId: 'c1', firstName: 'Ada', lastName: 'Copy', phoneNumber: null, email: null, createdAt: null });
    const op = plan(w, { kind: 'delete', externalContactId: 'c1', reason: 'duplicate_in_chekt', chektContactId: '777' });
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    expect(out.type === 'done' && out.result.outcome).toBe('succeeded');
    expect((w.chekt.get('10/1') ?? []).map((c) => c.contactId)).toEqual([own]);
    expect(w.ledger.get('10/1\nc1')?.chektContactId).toBe(own);
  });
});
