import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { opKey } from '../../src/domain/opKey.js';
import { holdsJobLock, JobLockLostError } from '../../src/queue/fence.js';
import { planRun } from '../../src/sync/planRun.js';
import { createOperationProcessor } from '../../src/queue/operationWorker.js';
import { createOperationStore } from '../../src/source/operationStore.js';
import { dealerSites } from './support/builders.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * docs/RETRIES.md#fencing, for every kind of write: a worker that does not hold its job's lock (BullMQ's
 * `<prefix>:<queue>:<jobId>:lock`, checked by queue/fence.ts) sends no PUT or DELETE and writes no ledger row or
 * outcome; the same job run by the lock holder applies. The SIGSTOP reproduction is faults-frozen.test.ts.
 */

let h: Harness;
const ledgerOf = (ext: string) => h.app.db.syncLedger.findUniqueOrThrow({ where: { chektDealerId_chektSiteId_externalContactId: { chektDealerId: '4', chektSiteId: '1', externalContactId: ext } } });

beforeAll(async () => {
  h = await createHarness('fence', { env: { LOG_LEVEL: 'warn', SITE_MIN_CONTACTS: '0', DELETE_HOLD_SHARE_PERCENT: '100' } });
  await seedCrm(
    h,
    dealerSites('4', 1),
    ['f1', 'f2', 'f3'].map((id) => ({ id, siteId: 's1', firstName: 'Fen', lastName: `Ced ${id}` })),
  );
  await h.app.startWorkers({ control: false });
  expect((await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 })).counts).toEqual({ create: { succeeded: 3 } });
  // From here no worker runs: the test runs the processor by hand.
  await Promise.all(h.app.workers.map((w) => w.close()));
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('fencing', () => {
  test('without the lock, an update and a delete send nothing and record nothing; with it, they apply', async () => {
    const app = h.app;
    await h.app.db.$executeRaw`UPDATE contacts SET last_name = 'Edited' WHERE id = 'f1'`;
    await h.app.db.$executeRaw`UPDATE contacts SET deleted_at = now() WHERE id = 'f2'`;
    const runId = randomUUID();
    const summary = await planRun(app.planDeps, { kind: 'change_tick', runId });
    expect([summary.totals.updates, summary.totals.deletes]).toEqual([1, 1]);
    const before = { requests: h.sandbox.requests().length, f1: await ledgerOf('f1'), f2: await ledgerOf('f2') };
    const deps = {
      store: createOperationStore({ db: app.db, crm: app.crm, rules: app.planDeps.rules }),
      chekt: app.chekt.forScope,
      rules: app.planDeps.rules,
      now: () => new Date(),
      siteMinContacts: 0,
      logger: app.logger,
    };
    const fenced = createOperationProcessor({ ...deps, ownsJob: (job, token) => holdsJobLock(app.redis, job, token) });

    for (const ext of ['f1', 'f2']) {
      const job = (await app.operationsQueue.getJob(opKey('4', '1', ext)))!;
      // The job waits in the queue: nobody holds its lock, so this worker's token is not the holder's.
      await expect(fenced(job, 'a-token-that-lost-the-lock')).rejects.toBeInstanceOf(JobLockLostError);
    }
    // No PUT, no DELETE reached CHeKT.
    expect(
      h.sandbox
        .requests()
        .slice(before.requests)
        .filter((r) => r.method !== 'GET'),
    ).toEqual([]);
    expect(await ledgerOf('f1')).toEqual(before.f1);
    expect(await ledgerOf('f2')).toEqual(before.f2);
    expect(await app.db.syncOperation.count({ where: { runId, outcome: 'queued' } })).toBe(2);
    expect(
      h.sandbox
        .contacts('4', '1')
        .map((c) => c.last_name)
        .sort(),
    ).toEqual(['Ced f1', 'Ced f2', 'Ced f3']);

    // The lock holder applies both.
    const owner = createOperationProcessor({ ...deps, ownsJob: async () => true });
    for (const ext of ['f1', 'f2']) await owner((await app.operationsQueue.getJob(opKey('4', '1', ext)))!, 'holder');
    expect(
      h.sandbox
        .contacts('4', '1')
        .map((c) => c.last_name)
        .sort(),
    ).toEqual(['Ced f3', 'Edited']);
    expect(await app.db.syncOperation.count({ where: { runId, outcome: 'succeeded' } })).toBe(2);
  }, 60_000);
});
