import { describe, expect, it } from '@jest/globals';
import type { Job } from 'bullmq';
import { notifiedChangesJobId } from '../../src/queue/control.js';
import { createControlProcessor } from '../../src/queue/controlProcessor.js';
import type { ControlJobData } from '../../src/queue/jobs.js';
import { runChangeTick } from '../../src/sync/control.js';
import { requestResync } from '../../src/sync/requestResync.js';
import { CLOCK, FakeWorld } from './fakes/planner.js';

/**
 * The control use cases (src/sync/control.ts), the control worker's mapping of jobs to them
 * (src/queue/controlProcessor.ts), the resync request (src/sync/requestResync.ts) and the notified plan's job id
 * (src/queue/control.ts), over in-memory fakes (./fakes/planner.ts).
 */

function world(): FakeWorld {
  const w = new FakeWorld();
  w.site('crm-1', '10/7');
  w.site('crm-2', '10/8');
  w.synced(w.contact('b', 'crm-1'), '41');
  w.synced(w.contact('p', 'crm-2'), '60');
  w.contact('a', 'crm-1');
  w.contact('q', 'crm-2');
  return w;
}

const job = (data: ControlJobData) => ({ data }) as Job<ControlJobData>;

describe('runChangeTick', () => {
  it('first enqueues again the lost operations of stale runs, then plans every enabled site', async () => {
    const w = world();
    w.stale = ['run-stale-1', 'run-stale-2'];

    const outcome = await runChangeTick(w.deps(), 'run-tick');

    expect(w.requeued).toEqual(['run-stale-1', 'run-stale-2']);
    expect(w.calls.indexOf('runs.listStale')).toBeLessThan(w.calls.indexOf('changes.readChanges'));
    expect(outcome.runId).toBe('run-tick');
    expect(w.enqueuedOps()).toEqual(['create a new_in_crm', 'create q new_in_crm']);
    expect(w.runs.get('run-tick')?.trigger).toBe('schedule');
  });
});

describe('createControlProcessor', () => {
  it('runs a tick as the change tick, stale runs first', async () => {
    const w = world();
    const out = await createControlProcessor(w.deps())(job({ type: 'tick' }));
    expect(w.calls[0]).toBe('runs.listStale');
    expect(out.runId).toEqual(expect.any(String));
    expect(w.runs.get(out.runId!)).toMatchObject({ trigger: 'schedule', mode: 'changes' });
  });

  it('runs notified changes over their CRM sites only', async () => {
    const w = world();
    const out = await createControlProcessor(w.deps())(job({ type: 'changes', crmSiteIds: ['crm-2'] }));
    expect(w.enqueuedOps()).toEqual(['create q new_in_crm']);
    expect(w.runs.get(out.runId!)?.trigger).toBe('notify');
  });

  it('runs the scheduled reconcile paced', async () => {
    const w = world();
    const out = await createControlProcessor(w.deps())(job({ type: 'reconcile' }));
    expect(w.runs.get(out.runId!)).toMatchObject({ trigger: 'reconcile_schedule', mode: 'reconcile' });
    expect(w.paced).toBe(2);
  });

  it('plans a resync under its own run id, reading the site keys of the job', async () => {
    const w = world();
    const deps = w.deps();
    await requestResync(deps, { trigger: 'api', sites: [{ dealerId: '10', siteId: '8' }], dryRun: false, approveDeletes: false });
    const queued = w.resyncJobs[0]!;

    const out = await createControlProcessor(deps)(job({ type: 'resync', ...queued }));

    expect(out).toEqual({ runId: queued.runId, totals: expect.objectContaining({ sites: 1, creates: 1 }) });
    expect(w.enqueuedOps()).toEqual(['create q missing_in_chekt']);
    expect(w.runs.get(queued.runId)).toMatchObject({ status: 'running', trigger: 'api' });
  });
});

describe('requestResync', () => {
  it('writes the run (status planning) before it queues the plan, one job per run', async () => {
    const w = world();

    const r = await requestResync(w.deps(), { trigger: 'console', sites: [{ dealerId: '10', siteId: '7' }], dryRun: true, approveDeletes: true });

    expect(r.href).toBe(`/api/runs/${r.runId}`);
    expect(w.runs.get(r.runId)).toMatchObject({ trigger: 'console', sites: ['10/7'], dryRun: true, approveDeletes: true, mode: 'reconcile', status: 'planning', now: CLOCK });
    expect(w.resyncJobs).toEqual([{ runId: r.runId, sites: ['10/7'], dryRun: true, approveDeletes: true }]);
    expect(w.calls).toEqual(['runs.create']);
  });
});

describe('notifiedChangesJobId', () => {
  const at = CLOCK.getTime();

  it('is the sha256 of the sorted distinct CRM site ids and the unix second', () => {
    expect(notifiedChangesJobId(['crm-2', 'crm-1', 'crm-2'], at)).toBe('changes-64be775193c3a0051145b68a-1772366400');
  });

  it('is one id for processes notified of the same sites within a second, another the next second', () => {
    expect(notifiedChangesJobId(['crm-1', 'crm-2'], at + 999)).toBe(notifiedChangesJobId(['crm-2', 'crm-1'], at));
    expect(notifiedChangesJobId(['crm-1', 'crm-2'], at + 1000)).toBe('changes-64be775193c3a0051145b68a-1772366401');
    expect(notifiedChangesJobId(['crm-1'], at)).not.toBe(notifiedChangesJobId(['crm-1', 'crm-2'], at));
  });
});
