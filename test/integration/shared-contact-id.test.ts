import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { startRun } from '../../src/sync/startRun.js';
import { waitForRun } from '../../src/sync/waitForRun.js';
import { dealerSites } from './support/builders.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * The built-in tables follow the source contract's key (docs/CRM.md#the-contract): one id on several sites is one
 * CHeKT contact per site, with its own ledger row and job; removing it from one site deletes it there only.
 */

let h: Harness;
const ids = (siteId: string) =>
  h.sandbox
    .contacts('30', siteId)
    .map((c) => `${c.external_contact_id} ${c.last_name}`)
    .sort();

beforeAll(async () => {
  h = await createHarness('sharedid', { env: { SYNC_INTERVAL_SECONDS: '3600' } });
  await seedCrm(h, dealerSites('30', 2), [
    { id: 'keyholder', siteId: 's1', firstName: 'Tom', lastName: 'Reilly', phoneNumber: '+1 201 555 0111' },
    { id: 'keyholder', siteId: 's2', firstName: 'Tom', lastName: 'Reilly', phoneNumber: '+1 201 555 0111' },
    { id: 'owner-1', siteId: 's1', firstName: 'Ann', lastName: 'Lee', phoneNumber: '+1 201 555 0112' },
    { id: 'owner-2', siteId: 's2', firstName: 'Bo', lastName: 'Kim', phoneNumber: '+1 201 555 0113' },
  ]);
  await h.app.startWorkers();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('one contact id on two sites (built-in tables)', () => {
  test('a sync creates it on each site', async () => {
    const report = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
    expect(report.counts).toEqual({ create: { succeeded: 4 } });
    expect(ids('1')).toEqual(['keyholder Reilly', 'owner-1 Lee']);
    expect(ids('2')).toEqual(['keyholder Reilly', 'owner-2 Kim']);
  });

  test('an edit on one site updates that site only; a removal from one site deletes it there only', async () => {
    await h.app.db.contact.updateMany({ where: { siteId: 's2', id: 'keyholder' }, data: { lastName: 'Reilly-Hart' } });
    await h.app.db.contact.deleteMany({ where: { siteId: 's1', id: 'keyholder' } });
    const { runId, summary } = await startRun(h.app.planDeps, { mode: 'changes', trigger: 'cli', dryRun: false });
    expect(summary.totals).toMatchObject({ creates: 0, updates: 1, deletes: 1 });
    await waitForRun(h.app.db, h.app.operationsQueue, runId, { jobOptions: h.app.jobOptions, timeoutMs: 30_000 });
    expect(ids('1')).toEqual(['owner-1 Lee']);
    expect(ids('2')).toEqual(['keyholder Reilly-Hart', 'owner-2 Kim']);
  });
});
