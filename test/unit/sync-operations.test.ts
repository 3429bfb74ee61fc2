import { describe, expect, it } from '@jest/globals';
import { ChektBadRequestError, ChektCancelledError, ChektRateLimitedError, ChektServerError } from '../../src/chekt/errors/index.js';
import { JobLockLostError } from '../../src/sync/ports/operations.js';
import { runOperation } from '../../src/sync/runOperation.js';
import { attemptOf, crm, fakeDeps, fingerprintOf, newWorld, plan, synced, type World } from './fakes/operations.js';

/**
 * The operation lifecycle (src/sync/runOperation.ts) over in-memory fakes of its ports: what is retried and what
 * is given up (docs/RETRIES.md), the hand-back of a long 429, fencing, and latest wins. No PostgreSQL, Redis or
 * HTTP: test/unit/fakes/operations.ts.
 */

const ledgerOf = (w: World, ext: string) => w.ledger.get(`10/1\n${ext}`);
const outcomesOf = (w: World) => w.operations.map((o) => `${o.runId} ${o.externalContactId} ${o.outcome}`);
const methods = (w: World) => w.calls.map((c) => c.method);

describe('retry or give up', () => {
  it('a transient failure is retried in the attempt (a retried create looks up first), then handed to the queue; nothing is recorded', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    w.failNext.set(
      'POST',
      [1, 2, 3].map(() => new ChektServerError({ endpoint: 'POST contacts', status: 503 })),
    );
    const deps = fakeDeps(w);
    const out = await runOperation(deps, attemptOf(op));
    expect(out.type).toBe('retry');
    expect(out.type === 'retry' && out.error).toBeInstanceOf(ChektServerError);
    // innerRetries 2: three tries, the two retries look CHeKT up by external_contact_id before creating.
    expect(methods(w)).toEqual(['POST', 'GET', 'POST', 'GET', 'POST']);
    expect(outcomesOf(w)).toEqual(['run-1 c1 queued']);
    expect(ledgerOf(w, 'c1')).toBeUndefined();
    expect(deps.lines.find((l) => l.msg === 'operation failed; will retry')).toMatchObject({
      level: 40,
      outcome: 'retrying',
      attempt: 1,
      traceIds: ['trace-1', 'trace-2', 'trace-3', 'trace-4', 'trace-5'],
    });
  });

  it('after one transient failure the next try succeeds: the contact is created once and recorded', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    w.failNext.set('POST', [new ChektServerError({ endpoint: 'POST contacts', status: 502 })]);
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    expect(out).toEqual({ type: 'done', result: { appliedKind: 'create', outcome: 'succeeded', detail: null, passes: 1 } });
    expect(w.chekt.get('10/1')?.map((c) => c.externalContactId)).toEqual(['c1']);
    expect(ledgerOf(w, 'c1')).toMatchObject({ chektContactId: w.chekt.get('10/1')![0]!.contactId, crmHash: fingerprintOf(crm('c1')), lastOutcome: 'succeeded', sentPhone: '+12015550123' });
    expect(outcomesOf(w)).toEqual(['run-1 c1 succeeded']);
    expect(w.runs.get('run-1')?.status).toBe('completed');
  });

  it('a 4xx gives up at once: one request, the reason and the fingerprint it failed on in the ledger and the run', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    w.failNext.set('POST', [new ChektBadRequestError({ endpoint: 'POST contacts', status: 422, code: 'invalid' })]);
    const deps = fakeDeps(w);
    const out = await runOperation(deps, attemptOf(op, { attempt: 3 }));
    expect(out.type).toBe('failed');
    const reason = out.type === 'failed' ? out.reason : '';
    expect(reason).toMatch(/^CHeKT POST contacts: .*422/);
    expect(methods(w)).toEqual(['POST']);
    expect(ledgerOf(w, 'c1')).toMatchObject({ lastOutcome: 'failed', lastError: reason, failedHash: fingerprintOf(crm('c1')), chektContactId: null });
    expect(w.operations[0]).toMatchObject({ outcome: 'failed', error: reason, attempts: 3, appliedKind: 'create' });
    expect(deps.lines.find((l) => l.msg === 'operation failed')).toMatchObject({ outcome: 'failed', attempt: 3 });
  });

  it('a delete that fails for good is marked with the delete marker, not a fingerprint', async () => {
    const w = newWorld();
    const id = synced(w, crm('c1'));
    synced(w, crm('c2'));
    w.contacts.set('c1', crm('c1', { deletedAt: new Date(0) }));
    const op = plan(w, { kind: 'delete', externalContactId: 'c1', chektContactId: id });
    w.failNext.set('DELETE', [new ChektBadRequestError({ endpoint: 'DELETE contacts/{id}', status: 400 })]);
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    expect(out.type).toBe('failed');
    expect(ledgerOf(w, 'c1')).toMatchObject({ failedHash: 'delete', lastOutcome: 'failed', chektContactId: id });
  });

  it('a 429 asking for longer than CHEKT_MAX_RETRY_AFTER_SECONDS is handed back: the queue waits, the job is not retried in place', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    w.failNext.set('POST', [new ChektRateLimitedError({ endpoint: 'POST contacts', status: 429, retryAfterMs: 120_000 })]);
    const waits: number[] = [];
    const deps = fakeDeps(w, { maxRetryAfterMs: 30_000, handBack: async (ms) => void waits.push(ms) });
    expect(await runOperation(deps, attemptOf(op))).toEqual({ type: 'handed_back', retryAfterMs: 120_000 });
    expect(waits).toEqual([120_000]);
    expect(methods(w)).toEqual(['POST']);
    expect(outcomesOf(w)).toEqual(['run-1 c1 queued']);
    expect(deps.lines.find((l) => l.outcome === 'rate_limited')).toMatchObject({ msg: 'CHeKT rate limit: the queue waits, the job goes back to waiting', retryAfterMs: 120_000 });
  });

  it('without a queue to hand back to, the same 429 is an ordinary retry', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    w.failNext.set('POST', [new ChektRateLimitedError({ endpoint: 'POST contacts', status: 429, retryAfterMs: 120_000 })]);
    const out = await runOperation(fakeDeps(w, { maxRetryAfterMs: 30_000 }), attemptOf(op));
    expect(out.type === 'retry' && out.error).toBeInstanceOf(ChektRateLimitedError);
    expect(methods(w)).toEqual(['POST']);
  });

  it('a shutdown cuts the attempt before its next request: retried elsewhere, not failed', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    w.failNext.set('POST', [new ChektCancelledError({ endpoint: 'POST contacts' })]);
    const deps = fakeDeps(w);
    const out = await runOperation(deps, attemptOf(op));
    expect(out.type === 'retry' && out.error).toBeInstanceOf(ChektCancelledError);
    expect(deps.lines.some((l) => l.msg === 'operation cut by shutdown before its next CHeKT request; another worker retries it')).toBe(true);
    expect(outcomesOf(w)).toEqual(['run-1 c1 queued']);
  });

  it('the store failing is transient: retried by the queue without quick retries, nothing sent', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    const deps = fakeDeps(w);
    const down = new Error('connection refused');
    const out = await runOperation({ ...deps, store: { ...deps.store, readContext: async () => Promise.reject(down) } }, attemptOf(op));
    expect(out).toEqual({ type: 'retry', error: down });
    expect(w.calls).toEqual([]);
  });
});

describe('fencing: a worker that lost the job writes nothing', () => {
  it('without the lock, no CHeKT write and no ledger or run write', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    const deps = fakeDeps(w);
    const out = await runOperation(deps, attemptOf(op, { holdsJob: async () => false }));
    expect(out.type === 'retry' && out.error).toBeInstanceOf(JobLockLostError);
    expect(w.calls).toEqual([]);
    expect(ledgerOf(w, 'c1')).toBeUndefined();
    expect(outcomesOf(w)).toEqual(['run-1 c1 queued']);
    expect(deps.lines.find((l) => l.outcome === 'dropped')).toMatchObject({ msg: 'operation dropped: another worker holds its job now; nothing written' });
  });

  it('a lock lost after the write but before the ledger write: the write is sent, nothing is recorded', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    const answers = [true, false];
    const out = await runOperation(fakeDeps(w), attemptOf(op, { holdsJob: async () => answers.shift() ?? false }));
    expect(out.type === 'retry' && out.error).toBeInstanceOf(JobLockLostError);
    expect(methods(w)).toEqual(['POST']);
    expect(ledgerOf(w, 'c1')).toBeUndefined();
    expect(outcomesOf(w)).toEqual(['run-1 c1 queued']);
  });

  it('a permanent failure is not recorded by a worker that lost the lock meanwhile', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    w.failNext.set('POST', [new ChektBadRequestError({ endpoint: 'POST contacts', status: 400 })]);
    const answers = [true, false];
    await expect(runOperation(fakeDeps(w), attemptOf(op, { holdsJob: async () => answers.shift() ?? false }))).rejects.toBeInstanceOf(JobLockLostError);
    expect(ledgerOf(w, 'c1')).toBeUndefined();
    expect(outcomesOf(w)).toEqual(['run-1 c1 queued']);
  });
});

describe('latest wins: the worker acts on the CRM as it is now', () => {
  it('a contact edited after planning is sent with its current values', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1', { firstName: 'Planned' }));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    w.contacts.set('c1', crm('c1', { firstName: 'Edited' }));
    await runOperation(fakeDeps(w), attemptOf(op));
    expect(w.chekt.get('10/1')?.map((c) => c.firstName)).toEqual(['Edited']);
    expect(ledgerOf(w, 'c1')?.crmHash).toBe(fingerprintOf(crm('c1', { firstName: 'Edited' })));
  });

  it("a create superseded by the contact's removal sends nothing; the next plan deletes under the holds", async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    w.contacts.set('c1', crm('c1', { deletedAt: new Date(1) }));
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    expect(out).toEqual({ type: 'done', result: { appliedKind: 'skip', outcome: 'skipped', detail: 'not in CHeKT; nothing to delete', passes: 1 } });
    expect(w.calls).toEqual([]);
    expect(outcomesOf(w)).toEqual(['run-1 c1 skipped']);
  });

  it("an update superseded by the contact's removal does not delete it (no delete was planned under the holds)", async () => {
    const w = newWorld();
    const id = synced(w, crm('c1'));
    const op = plan(w, { kind: 'update', externalContactId: 'c1', chektContactId: id });
    w.contacts.set('c1', crm('c1', { deletedAt: new Date(1) }));
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    expect(out.type === 'done' && out.result.detail).toBe('removed from the CRM after planning; the next plan deletes it, under the deletion holds');
    expect(w.calls).toEqual([]);
    expect(w.chekt.get('10/1')).toHaveLength(1);
  });

  it('a site disabled after planning is left as it is', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    w.sites.get('s1')!.syncEnabled = false;
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    expect(out.type === 'done' && out.result).toMatchObject({ appliedKind: 'skip', outcome: 'skipped', detail: 'site sync is disabled; left as it is in CHeKT' });
    expect(w.calls).toEqual([]);
  });

  it('a run that planned newer CRM data while the job ran is settled only after a second pass sends it', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1', { firstName: 'W1' }));
    const op = plan(w, { kind: 'create', externalContactId: 'c1' });
    w.afterRead = (_op, read) => {
      if (read !== 1) return;
      // While the first pass runs, the CRM changes and a second run plans it (it joins the same job).
      w.contacts.set('c1', crm('c1', { firstName: 'W2' }));
      w.clock += 10;
      plan(w, { kind: 'create', externalContactId: 'c1', runId: 'run-2' });
    };
    const out = await runOperation(fakeDeps(w), attemptOf(op));
    expect(out.type === 'done' && out.result).toMatchObject({ passes: 2, outcome: 'succeeded' });
    expect(w.chekt.get('10/1')?.map((c) => [c.externalContactId, c.firstName])).toEqual([['c1', 'W2']]);
    // The first pass settled run-1 only; the second settled run-2 with the values it saw.
    expect(outcomesOf(w)).toEqual(['run-1 c1 succeeded', 'run-2 c1 succeeded']);
    expect([w.runs.get('run-1')?.status, w.runs.get('run-2')?.status]).toEqual(['completed', 'completed']);
    // The second pass finds the contact_id the first pass recorded: an update, not a second create.
    expect(methods(w)).toEqual(['POST', 'PUT']);
  });

  it('a run left open by a concurrent finish is checked after the commit, by the gathered checks when given', async () => {
    const w = newWorld();
    w.contacts.set('c1', crm('c1'));
    w.contacts.set('c2', crm('c2'));
    const a = plan(w, { kind: 'create', externalContactId: 'c1' });
    plan(w, { kind: 'create', externalContactId: 'c2' });
    const asked: string[][] = [];
    await runOperation(fakeDeps(w, { runCompletion: { checkLater: (ids) => void asked.push([...ids]) } }), attemptOf(a));
    expect(asked).toEqual([['run-1']]);
    expect(w.runs.get('run-1')?.status).toBe('running');
  });
});
