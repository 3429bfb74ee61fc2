import { describe, expect, it } from '@jest/globals';
import { ChektBadRequestError } from '../../src/chekt/errors/index.js';
import { runOperation } from '../../src/sync/runOperation.js';
import { attemptOf, crm, fakeDeps, newWorld, plan, synced } from './fakes/operations.js';

/**
 * The echo check after a write (docs/REACHABILITY.md; domain/reach.ts `echoReachProblem`), as the lifecycle
 * records it in the ledger's `reach_problem`, and the writes that keep a contact reachable when CHeKT refuses a
 * field. Over in-memory fakes: CHeKT's `storePhone` decides what it keeps of a phone it is sent.
 */

async function createWith(storePhone: (sent: string) => string | null, phoneNumber: string | null = '(201) 555-0123') {
  const w = newWorld();
  w.storePhone = storePhone;
  w.contacts.set('c1', crm('c1', { phoneNumber }));
  const out = await runOperation(fakeDeps(w), attemptOf(plan(w, { kind: 'create', externalContactId: 'c1' })));
  return { w, out, row: w.ledger.get('10/1\nc1')! };
}

describe('the echo check', () => {
  it('CHeKT keeps the phone as sent (E.164): no problem; the ledger keeps what was sent and the echo hash', async () => {
    const { w, out, row } = await createWith((sent) => sent);
    expect(out.type).toBe('done');
    expect(w.calls[0]?.body).toEqual({ external_contact_id: 'c1', first_name: 'Ada', last_name: 'Last c1', phone_number: '+12015550123' });
    expect(row).toMatchObject({ reachProblem: null, sentPhone: '+12015550123', sentHash: expect.stringMatching(/^[0-9a-f]{64}$/), echoHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('CHeKT keeps the same number in another format: no problem', async () => {
    const { row } = await createWith(() => '(201) 555-0123');
    expect(row.reachProblem).toBeNull();
  });

  it('CHeKT drops the phone: recorded', async () => {
    const { out, row } = await createWith(() => null);
    expect(out.type === 'done' && out.result.outcome).toBe('succeeded');
    expect(row.reachProblem).toBe('CHeKT dropped the phone number it was sent');
  });

  it('CHeKT stores other digits: recorded', async () => {
    const { row } = await createWith(() => '+12015550199');
    expect(row.reachProblem).toBe('CHeKT stored a phone number with other digits than it was sent');
  });

  it('CHeKT stores the number with an extension: recorded', async () => {
    const { row } = await createWith((sent) => `${sent} ext. 5`);
    expect(row.reachProblem).toBe('CHeKT stored the phone number with an extension');
  });

  it('a landline sent is not checked (it never was SMS-capable)', async () => {
    const { row } = await createWith(() => null, '+49 30 901820 00');
    expect(row.reachProblem).toBeNull();
  });

  it('an update clears a problem once CHeKT keeps the phone', async () => {
    const w = newWorld();
    const id = synced(w, crm('c1'));
    w.ledger.get('10/1\nc1')!.reachProblem = 'CHeKT dropped the phone number it was sent';
    w.contacts.set('c1', crm('c1', { lastName: 'Renamed' }));
    await runOperation(fakeDeps(w), attemptOf(plan(w, { kind: 'update', externalContactId: 'c1', chektContactId: id })));
    expect(w.calls.map((c) => c.method)).toEqual(['PUT']);
    expect(w.ledger.get('10/1\nc1')).toMatchObject({ reachProblem: null, lastKind: 'update', lastOutcome: 'succeeded' });
  });
});

describe('a refused field is dropped, not the contact', () => {
  it('CHeKT refuses phone_number (400 naming it): created again without it, with a note, and the echo check finds no phone', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    w.failNext.set('POST', [new ChektBadRequestError({ endpoint: 'POST contacts', status: 400, code: 'invalid_field', field: 'phone_number' })]);
    const out = await runOperation(fakeDeps(w), attemptOf(plan(w, { kind: 'create', externalContactId: 'c1' })));
    expect(out.type === 'done' && out.result).toMatchObject({ appliedKind: 'create', outcome: 'succeeded', detail: 'CHeKT refused phone_number (status 400, code invalid_field); created without it' });
    expect(w.calls.map((c) => c.body)).toEqual([
      { external_contact_id: 'c1', first_name: 'Ada', last_name: 'Last c1', phone_number: '+12015550123' },
      { external_contact_id: 'c1', first_name: 'Ada', last_name: 'Last c1' },
    ]);
    expect(w.ledger.get('10/1\nc1')?.reachProblem).toBe('CHeKT dropped the phone number it was sent');
  });
});
