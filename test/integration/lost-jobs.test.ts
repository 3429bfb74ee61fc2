import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { startRun } from '../../src/sync/startRun.js';
import { waitForRun } from '../../src/sync/waitForRun.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * The queue is a cache of work: when Redis loses a run's jobs, the run's waiter notices the stall, enqueues
 * the operations again, and the run completes with CHeKT equal to the CRM.
 */

let h: Harness;

beforeAll(async () => {
  h = await createHarness('lost');
  await seedCrm(
    h,
    [{ id: 's', dealerId: '3', siteId: '4' }],
    [
      { id: 'l1', siteId: 's', firstName: 'Lena', lastName: 'Lost' },
      { id: 'l2', siteId: 's', firstName: 'Lars', lastName: 'Lost' },
    ],
  );
}, 60_000);

afterAll(async () => {
  await h?.close();
});

test('jobs lost from Redis are enqueued again and the run completes', async () => {
  // Plan with no worker running, then lose every job.
  const { runId } = await startRun(h.app.planDeps, { trigger: 'cli', sites: [], dryRun: false });
  expect(await h.app.operationsQueue.getJobCounts('waiting')).toEqual({ waiting: 2 });
  await h.app.operationsQueue.obliterate({ force: true });
  await h.app.startWorkers({ control: false });

  const report = await waitForRun(h.app.db, h.app.operationsQueue, runId, {
    jobOptions: h.app.jobOptions,
    pollMs: 50,
    stallCheckMs: 300,
    confirmOrphanAfterMs: 100,
    timeoutMs: 20_000,
  });
  expect(report.status).toBe('completed');
  expect(report.counts).toEqual({ create: { succeeded: 2 } });
  expect(
    h.sandbox
      .contacts('3', '4')
      .map((c) => c.external_contact_id)
      .sort(),
  ).toEqual(['l1', 'l2']);

  h.sandbox.resetStats();
  const next = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 20_000 });
  expect(next.counts).toEqual({});
  expect(h.sandbox.stats().writes).toBe(0);
}, 60_000);
