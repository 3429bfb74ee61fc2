import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { opKey } from '../../src/domain/opKey.js';
import { startRun } from '../../src/sync/startRun.js';
import { waitForRun } from '../../src/sync/waitForRun.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * A run that joins a job already running on older CRM data does not report success until CHeKT holds the
 * values that run saw: the job applies again after re-reading the CRM.
 */

let h: Harness;

beforeAll(async () => {
  h = await createHarness('latest');
  await seedCrm(h, [{ id: 's', dealerId: '8', siteId: '1' }], [{ id: 'j1', siteId: 's', firstName: 'W1', lastName: 'Late' }]);
  await h.app.startWorkers({ control: false });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

test('a change made while the job runs reaches CHeKT before the joining run completes', async () => {
  const wait = (runId: string) => waitForRun(h.app.db, h.app.operationsQueue, runId, { jobOptions: h.app.jobOptions, pollMs: 50, timeoutMs: 30_000 });
  const a = await startRun(h.app.planDeps, { trigger: 'cli', sites: [], dryRun: false });
  // Hold the create in CHeKT for 3 s.
  h.sandbox.setFaults({ latencyMs: 3000 });
  const key = opKey('8', '1', 'j1');
  // Wait until the worker has read W1 and its create is held in CHeKT.
  for (let i = 0; i < 500 && h.sandbox.inFlight() === 0; i++) await sleep(10);
  expect(h.sandbox.inFlight()).toBe(1);
  expect(await h.app.operationsQueue.getJobState(key)).toBe('active');
  // Meanwhile the CRM changes and a second run plans it (CHeKT answers its list at once).
  h.sandbox.setFaults({ latencyMs: 0 });
  await h.app.db.contact.updateMany({ where: { id: 'j1' }, data: { firstName: 'W2' } });
  const b = await startRun(h.app.planDeps, { trigger: 'cli', sites: [], dryRun: false });
  expect(b.summary.enqueue).toEqual({ added: 0, joined: 1, replaced: 0 });

  const [ra, rb] = await Promise.all([wait(a.runId), wait(b.runId)]);
  expect(ra.status).toBe('completed');
  expect(rb.status).toBe('completed');
  expect(rb.failures).toEqual([]);
  expect(h.sandbox.contacts('8', '1').map((c) => [c.external_contact_id, c.first_name])).toEqual([['j1', 'W2']]);
  const passes = h.logs.filter((l) => l.msg === 'operation done').map((l) => l.passes);
  expect(passes).toEqual([2]);
}, 60_000);
