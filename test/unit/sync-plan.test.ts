import { describe, expect, it } from '@jest/globals';
import { ChektForbiddenError } from '../../src/chekt/errors/index.js';
import type { SiteKey } from '../../src/domain/site.js';
import { planChangeTick, runNotifiedChanges, runScheduledReconcile } from '../../src/sync/control.js';
import { startRun } from '../../src/sync/startRun.js';
import { CLOCK, FakeWorld, chektCopy, crmContact, fingerprintOf } from './fakes/planner.js';

/**
 * The planner (src/sync/planRun.ts and its two modes) over in-memory fakes of its ports (./fakes/planner.ts):
 * what each kind of plan reads, plans, records and enqueues. No PostgreSQL, Redis or CHeKT.
 */

const ZERO = { sites: 0, creates: 0, updates: 0, deletes: 0, unchanged: 0, adopted: 0, invalid: 0, warnings: 0, unmanaged: 0, held: 0, driftRepairs: 0 };

/** CRM site crm-1 (CHeKT site 10/7) with contacts b, c, d, e synced to CHeKT as contacts 41..44. */
function syncedWorld(): FakeWorld {
  const w = new FakeWorld();
  w.site('crm-1', '10/7');
  ['b', 'c', 'd', 'e'].forEach((id, i) => w.synced(w.contact(id, 'crm-1'), String(41 + i)));
  return w;
}

const onlyRun = (w: FakeWorld) => {
  expect(w.runs.size).toBe(1);
  return [...w.runs.values()][0]!;
};

describe('change tick', () => {
  it('plans a create, an update and a delete, settles a no-op edit, records the run and enqueues the jobs', async () => {
    const w = syncedWorld();
    w.contact('a', 'crm-1');
    w.edit('b', { lastName: 'Moved' });
    w.edit('c', { deletedAt: new Date('2026-02-01T00:00:00Z') });
    // White space and another spelling of the same phone: a new fingerprint, the same content.
    w.edit('d', { firstName: ' Ann  ', phoneNumber: '(201) 555-0123' });

    const tick = await planChangeTick(w.deps(), 'run-1');

    expect(tick).toEqual({ runId: 'run-1', totals: { ...ZERO, sites: 1, creates: 1, updates: 1, deletes: 1, unchanged: 1 } });
    expect(w.enqueuedOps()).toEqual(['create a new_in_crm', 'update b changed_in_crm', 'delete c removed_from_crm']);
    expect(w.enqueued[0]?.approveDeletes).toEqual(new Set());
    const run = onlyRun(w);
    expect(run).toMatchObject({ id: 'run-1', trigger: 'schedule', mode: 'changes', dryRun: false, sites: [], approveDeletes: false, status: 'running', crmReadAt: CLOCK });
    expect(Object.fromEntries(run.operations)).toEqual({ 'op/10/7/a': 'queued', 'op/10/7/b': 'queued', 'op/10/7/c': 'queued' });
    expect(run.summary).toMatchObject({ mode: 'changes', recorded: true, held: [], siteErrors: [], enqueue: { added: 3, joined: 0, replaced: 0 } });
    expect(['a', 'b', 'c', 'd', 'e'].map((id) => w.ledgerRow('10/7', id)?.pending)).toEqual([true, true, true, false, false]);
    expect(w.ledgerRow('10/7', 'd')).toMatchObject({ crmHash: fingerprintOf(w.contacts.find((c) => c.id === 'd')!), lastOutcome: 'succeeded', runId: 'run-1' });
    // A change tick reads no CHeKT list.
    expect(w.chektCalls).toEqual([]);
  });

  it('records no run when nothing changed', async () => {
    const w = syncedWorld();
    const ledgerBefore = structuredClone([...w.ledger]);

    const tick = await planChangeTick(w.deps(), 'run-quiet');

    expect(tick).toEqual({ runId: null, totals: ZERO });
    expect(w.runs.size).toBe(0);
    expect(w.enqueued).toEqual([]);
    expect([...w.ledger]).toEqual(ledgerBefore);
    expect(w.calls).not.toContain('runs.create');
  });

  it('settles a no-op edit without recording a run', async () => {
    const w = syncedWorld();
    w.edit('d', { lastName: ' Lee  d ' });

    const tick = await planChangeTick(w.deps(), 'run-settle');

    expect(tick).toEqual({ runId: null, totals: { ...ZERO, sites: 1, unchanged: 1 } });
    expect(w.runs.size).toBe(0);
    expect(w.enqueued).toEqual([]);
    expect(w.ledgerRow('10/7', 'd')).toMatchObject({ crmHash: fingerprintOf(w.contacts.find((c) => c.id === 'd')!), lastOutcome: 'succeeded', runId: null, pending: false });
  });

  it('reconciles a site the ledger has never seen: adopts what CHeKT holds, creates the rest, leaves the dealer contact alone', async () => {
    const w = syncedWorld();
    w.site('crm-2', '10/8');
    const x = w.contact('x', 'crm-2');
    w.contact('y', 'crm-2');
    w.chektLists.set('10/8' as SiteKey, [chektCopy('500', x), { ...chektCopy('501', crmContact('own', 'crm-2')), externalContactId: null }]);

    const tick = await planChangeTick(w.deps(), 'run-new-site');

    expect(tick.totals).toEqual({ ...ZERO, sites: 1, creates: 1, adopted: 1, unchanged: 1, unmanaged: 1 });
    expect(w.enqueuedOps()).toEqual(['create y missing_in_chekt']);
    expect(w.chektCalls).toEqual(['list 10/8']);
    expect(w.ledgerRow('10/8', 'x')).toMatchObject({ chektContactId: '500', lastKind: 'adopt', lastOutcome: 'succeeded', crmHash: fingerprintOf(x), runId: 'run-new-site' });
  });

  it('a notified plan reads only the notified CRM sites and records trigger notify', async () => {
    const w = syncedWorld();
    w.site('crm-2', '10/8');
    w.synced(w.contact('p', 'crm-2'), '60');
    w.contact('a', 'crm-1');
    w.contact('q', 'crm-2');

    const outcome = await runNotifiedChanges(w.deps(), ['crm-2'], 'run-notify');

    expect(outcome).toEqual({ runId: 'run-notify', totals: { ...ZERO, sites: 1, creates: 1 } });
    expect(w.enqueuedOps()).toEqual(['create q new_in_crm']);
    expect(onlyRun(w)).toMatchObject({ trigger: 'notify', mode: 'changes' });
    expect(w.ledgerRow('10/7', 'a')).toBeUndefined();
  });
});

describe('reconcile', () => {
  it('the scheduled reconcile repairs drift made in CHeKT, its list calls paced', async () => {
    const w = syncedWorld();
    const list = w.chektLists.get('10/7' as SiteKey)!;
    // A dealer renamed b in CHeKT's portal and deleted c there.
    w.chektLists.set(
      '10/7' as SiteKey,
      list.filter((c) => c.contactId !== '42').map((c) => (c.contactId === '41' ? { ...c, firstName: 'Bob' } : c)),
    );

    const outcome = await runScheduledReconcile(w.deps(), 'run-reconcile');

    expect(outcome).toEqual({ runId: 'run-reconcile', totals: { ...ZERO, sites: 1, creates: 1, updates: 1, unchanged: 2, driftRepairs: 2 } });
    expect(w.enqueuedOps()).toEqual(['update b drift_edited', 'create c drift_deleted']);
    expect(w.enqueued[0]?.operations[0]?.fields).toEqual(['first_name']);
    // The recreate carries the vanished contact_id; one GET proved the list was not just cut short.
    expect(w.enqueued[0]?.operations[1]?.chektContactId).toBe('42');
    expect(w.chektCalls).toEqual(['list 10/7', 'get 10/7 42']);
    expect(w.paced).toBe(1);
    expect(onlyRun(w)).toMatchObject({ trigger: 'reconcile_schedule', mode: 'reconcile', status: 'running' });
  });

  it('a scheduled reconcile with nothing to repair records no run', async () => {
    const w = syncedWorld();
    const outcome = await runScheduledReconcile(w.deps(), 'run-calm');
    expect(outcome).toEqual({ runId: null, totals: { ...ZERO, sites: 1, unchanged: 4 } });
    expect(w.runs.size).toBe(0);
    expect(w.paced).toBe(1);
  });

  it('leaves out a site whose list cannot be read, keeps its hold, and plans the others', async () => {
    const w = syncedWorld();
    w.site('crm-2', '10/8');
    w.synced(w.contact('p', 'crm-2'), '60');
    w.contact('a', 'crm-1');
    const forbidden = new ChektForbiddenError({ endpoint: 'GET contacts', status: 403 });
    w.listFailures.set('10/8' as SiteKey, forbidden);
    w.holds.set('10/8' as SiteKey, { site: '10/8' as SiteKey, reason: 'held before', deletes: 1, managed: 1, runId: 'old', heldAt: CLOCK });

    const { summary } = await startRun(w.deps(), { trigger: 'cli', sites: [], dryRun: false });

    expect(summary.siteErrors).toEqual([{ site: '10/8', error: 'CHeKT GET contacts: forbidden, status 403' }]);
    expect(w.enqueuedOps()).toEqual(['create a missing_in_chekt']);
    expect([...w.holds.keys()]).toEqual(['10/8']);
  });

  it('leaves out a site whose list omits a contact that still exists (a paged or capped list)', async () => {
    const w = syncedWorld();
    const list = w.chektLists.get('10/7' as SiteKey)!;
    w.chektLists.set(
      '10/7' as SiteKey,
      list.filter((c) => c.contactId !== '43'),
    );
    w.unlisted.set(
      '10/7' as SiteKey,
      list.filter((c) => c.contactId === '43'),
    );

    const { summary } = await startRun(w.deps(), { trigger: 'cli', sites: [], dryRun: false });

    expect(summary.siteErrors).toEqual([
      { site: '10/7', error: "CHeKT's contact list omits contact 43 (external_contact_id d) although it exists: the list looks paged or capped, so this site is not planned" },
    ]);
    expect(w.enqueuedOps()).toEqual([]);
    expect(summary.totals).toEqual(ZERO);
  });

  it('rejects requested sites the CRM does not have or does not sync, and plans the rest', async () => {
    const w = syncedWorld();
    w.site('crm-off', '10/9', { syncEnabled: false });
    w.contact('a', 'crm-1');

    const { summary } = await startRun(w.deps(), {
      trigger: 'cli',
      sites: [
        { dealerId: '10', siteId: '7' },
        { dealerId: '10', siteId: '9' },
        { dealerId: '99', siteId: '1' },
      ],
      dryRun: false,
    });

    expect(summary.rejectedSites).toEqual([
      { ref: '10/9', reason: 'sync_enabled is false for this site' },
      { ref: '99/1', reason: 'no CRM site with this chekt_dealer_id/chekt_site_id' },
    ]);
    expect(w.enqueuedOps()).toEqual(['create a missing_in_chekt']);
    expect(onlyRun(w)).toMatchObject({ trigger: 'cli', mode: 'reconcile', sites: ['10/7', '10/9', '99/1'] });
  });
});

describe('dry run', () => {
  it('writes nothing but the run record: no job, no ledger write, no hold', async () => {
    const w = syncedWorld();
    w.contact('a', 'crm-1');
    w.edit('b', { deletedAt: new Date('2026-02-01T00:00:00Z') });
    w.edit('c', { deletedAt: new Date('2026-02-01T00:00:00Z') });
    // CHeKT holds x without the ledger knowing: a real run would adopt it.
    w.chektLists.get('10/7' as SiteKey)!.push(chektCopy('70', w.contact('x', 'crm-1')));
    const ledgerBefore = structuredClone([...w.ledger]);

    const { runId, summary } = await startRun(w.deps(), { trigger: 'cli', sites: [], dryRun: true, runId: 'run-dry' });

    expect(runId).toBe('run-dry');
    expect(summary.totals).toEqual({ ...ZERO, sites: 1, creates: 1, deletes: 2, unchanged: 3, adopted: 1, held: 2 });
    expect(summary.held.map((h) => h.site)).toEqual(['10/7']);
    const run = onlyRun(w);
    expect(run).toMatchObject({ trigger: 'cli', dryRun: true, status: 'completed' });
    expect(Object.fromEntries(run.operations)).toEqual({ 'op/10/7/a': 'planned', 'op/10/7/b': 'held', 'op/10/7/c': 'held' });
    expect(w.enqueued).toEqual([]);
    expect([...w.ledger]).toEqual(ledgerBefore);
    expect(w.holds.size).toBe(0);
    expect(w.calls.filter((c) => /^(ledger\.(adopt|settle|markPending)|holds\.save|runs\.recordEnqueued)$/.test(c))).toEqual([]);
  });
});
