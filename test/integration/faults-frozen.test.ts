import { randomUUID } from 'node:crypto';
import { expect, test } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { planRun } from '../../src/sync/planRun.js';
import { committedWrites, pollUntil } from './support/convergence.js';
import { dealerSites, markSiteSynced } from './support/builders.js';
import { createHarness, seedCrm } from './support/harness.js';
import { isRunning, startWorkerProcess, useChildren } from './support/processes.js';
import { progress } from './support/progress.js';
import { waitExit } from './support/spawn.js';

/**
 * docs/RETRIES.md#fencing: a frozen worker must not write after it lost its job. Worker process A takes a create and
 * waits on a slow token endpoint; it is stopped (SIGSTOP) for longer than its BullMQ lock (30 s). Worker process B
 * takes the stalled job over, looks the contact up, creates it and completes. When A resumes, it must prove it
 * still owns the job before its POST (queue/fence.ts) and drop the attempt: one POST in all, one contact, and the
 * ledger holds B's `contact_id`. Before fencing, A POSTed again without a lookup.
 *
 * Waits on BullMQ's own timers (lock expiry, then two or three stalled checks 30 s apart), so it takes 40 to 130 s.
 */

const children = useChildren();
// A request timeout longer than the freeze: the token answer that arrived meanwhile is read on resume (a timeout
// would end A's attempt before its write, through the token backoff, and prove nothing about fencing).
const WORKER_ENV = { WORKER_CONCURRENCY: '1', LOG_LEVEL: 'info', CHEKT_TIMEOUT_MS: '200000' };

/** Where the test is (printed when it fails; live with TEST_DEBUG=faults-frozen). */
const phase = progress('faults-frozen');

test('a worker frozen past its lock while its create waits on the token does not POST after another worker took the job over', async () => {
  const h = await createHarness('frozen', { env: { LOG_LEVEL: 'warn' } });
  try {
    await seedCrm(h, dealerSites('3', 1), [{ id: 'fz-1', siteId: 's1', firstName: 'Frozen', lastName: 'Worker', phoneNumber: '+1 201 555 0144' }]);
    // The ledger knows the site (as after a first sync), so the change tick plans the create with no list call.
    await markSiteSynced(h, '3', '1');
    const a = await startWorkerProcess(h, WORKER_ENV, children);
    phase('worker A connected');
    h.sandbox.setFaults({ tokenLatencyMs: 8000 });
    const runId = randomUUID();
    const summary = await planRun(h.app.planDeps, { kind: 'change_tick', runId });
    expect(summary.totals.creates).toBe(1);
    // A has the job and waits on its token request.
    await pollUntil('A to request a token', () => h.sandbox.inFlight() >= 1, { timeoutMs: 10_000, intervalMs: 20 });
    expect((await h.app.operationsQueue.getJobCounts('active')).active).toBe(1);
    a.kill('SIGSTOP');
    phase('A stopped (SIGSTOP) while it waits on its token');
    h.sandbox.setFaults({ tokenLatencyMs: 0 });

    const b = await startWorkerProcess(h, WORKER_ENV, children);
    phase('worker B connected');
    const settled = () => h.app.db.syncOperation.findFirst({ where: { runId, outcome: { not: 'queued' } } });
    // BullMQ's stalled check (every 30 s, one process at a time) marks the job, then moves it once A's lock expired.
    const op = await pollUntil('B to take the stalled job over and settle it', settled, { timeoutMs: 180_000, intervalMs: 200 });
    expect(op.outcome).toBe('succeeded');
    expect(op.appliedKind).toBe('create');
    phase('B settled the job');
    expect(committedWrites(h.sandbox).POST).toBe(1);
    const writes = () => h.sandbox.requests().filter((r) => r.method !== 'GET' && r.path.startsWith('/partner')).length;
    const writesByB = writes();
    expect(writesByB).toBe(1);

    a.kill('SIGCONT');
    phase('A resumed (SIGCONT)');
    const dropped = () => a.out.join('').includes('operation dropped: another worker holds its job now');
    // Whichever way A's attempt ends: dropped at the fence, a write, or BullMQ refusing A's settle of the job.
    const ended = () => dropped() || writes() > writesByB || a.out.join('').includes('"msg":"job settled by another worker"');
    await pollUntil('A to end its attempt', ended, { timeoutMs: 30_000, intervalMs: 100 });
    await sleep(1000);
    phase('checking CHeKT and the ledger');
    // A wrote nothing (before fencing it POSTed, or after a lookup PUT, on a job it no longer held): one POST in
    // all, B's, one contact, and the ledger holds it.
    expect(writes()).toBe(writesByB);
    expect(dropped()).toBe(true);
    phase('A dropped its attempt');
    const inChekt = h.sandbox.contacts('3', '1');
    expect(inChekt).toHaveLength(1);
    const ledger = await h.app.db.syncLedger.findUniqueOrThrow({ where: { chektDealerId_chektSiteId_externalContactId: { chektDealerId: '3', chektSiteId: '1', externalContactId: 'fz-1' } } });
    expect(ledger.chektContactId).toBe(String(inChekt[0]!.contact_id));
    expect(ledger.lastOutcome).toBe('succeeded');

    for (const [name, c] of [
      ['A', a],
      ['B', b],
    ] as const) {
      // A child that already exited would never emit 'exit' again: say so instead of waiting for it.
      if (!isRunning(c)) throw new Error(`worker ${name} exited early (${c.exitCode ?? c.signalCode})`);
      c.kill('SIGTERM');
      const exited = await Promise.race([waitExit(c, 20_000), sleep(25_000).then(() => null)]);
      expect([name, exited?.code]).toEqual([name, 0]);
    }
    phase('both workers stopped');
  } catch (err) {
    // Where it got to and what the workers said, to tell a slow machine from a wrong behaviour.
    console.error(phase.lines.join('\n'));
    for (const [name, c] of [
      ['A', children[0]],
      ['B', children[1]],
    ] as const)
      console.error(`worker ${name} output:\n${c?.out.join('').slice(-4000) ?? '(not started)'}`);
    throw err;
  } finally {
    await h.close();
  }
}, 330_000);
