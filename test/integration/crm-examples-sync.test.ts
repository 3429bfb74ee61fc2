import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { toJsonReport } from '../../src/domain/runReport.js';
import { applyTriggers } from '../../src/source/crm/applyTriggers.js';
import { parseRelationName, type RelationName } from '../../src/source/crm/relations.js';
import { planTriggers } from '../../src/source/crm/triggers.js';
import { startRun } from '../../src/sync/startRun.js';
import { waitForRun } from '../../src/sync/waitForRun.js';
import { pollUntil } from './support/convergence.js';
import { loadCrmExample, type CrmExample } from './support/crm-example.js';
import { withClient } from './support/database.js';
import { createHarness, startSchedulerAndSettle, type Harness } from './support/harness.js';

/**
 * Each example of examples/crm/ end to end (docs/CRM.md#the-examples): the example in a database of its own, read
 * only through its contract views by its read-only role (CRM_DATABASE_URL), the service's state in another
 * database, CHeKT's sandbox over HTTP. Sync, edit a base table, sync again, see the change in the sandbox. The
 * dealer-flat CRM through change ticks (its soft-delete flag a delete, held as any); the central-station one
 * through its opt-in NOTIFY triggers (docs/CRM.md#notify-triggers-opt-in), with no tick scheduled.
 * test/integration/crm-source-sync.test.ts has the central-station example through change ticks.
 */

const views = { CRM_SITES_SOURCE: 'crm_contract.sites', CRM_CONTACTS_SOURCE: 'crm_contract.contacts' };

/** A change tick, waited for; the run report. */
async function changeTick(h: Harness) {
  const { runId } = await startRun(h.app.planDeps, { mode: 'changes', trigger: 'cli', dryRun: false });
  return toJsonReport(await waitForRun(h.app.db, h.app.operationsQueue, runId, { jobOptions: h.app.jobOptions, timeoutMs: 30_000 }));
}

/** The sandbox's contacts of CHeKT site `dealerId/siteId` as [external_contact_id, last_name, phone digits], sorted. */
const listed = (h: Harness, dealerId: string, siteId: string) =>
  h.sandbox
    .contacts(dealerId, siteId)
    .map((c) => [c.external_contact_id, c.last_name, (c.phone_number ?? '').replace(/\D/g, '').slice(-10)])
    .sort((a, b) => Number(a[0]) - Number(b[0]));

describe('dealer-flat: a flat CRM with its own names and a soft-delete flag', () => {
  let df: CrmExample;
  let h: Harness;
  const edit = (sql: string) => withClient(df.adminUrl, (c) => c.query(sql));

  beforeAll(async () => {
    df = await loadCrmExample('dealer-flat', 'dfsync');
    h = await createHarness('dfsync', {
      sandbox: { sites: ['7001', '7002', '7003'].map((siteId) => ({ dealerId: '3300', siteId })) },
      env: { CRM_DATABASE_URL: df.readerUrl, ...views, SYNC_INTERVAL_SECONDS: '3600' },
    });
    await h.app.startWorkers();
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await df?.close();
  });

  test('a sync creates the live contacts of active customers; the soft-deleted one is not created, the nameless one skipped', async () => {
    const report = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
    expect(report.counts).toEqual({ create: { succeeded: 3 } });
    expect(listed(h, '3300', '7001')).toEqual([
      ['1', 'Kowalski', '9735550101'],
      // No cell: the home phone.
      ['2', 'Ferreira', '9735550102'],
    ]);
    expect(listed(h, '3300', '7002')).toEqual([['4', 'Office', '9735550110']]);
    expect(report.invalid).toEqual([expect.objectContaining({ externalContactId: '5', reason: 'last_name is empty' })]);
    // Corner Hardware is inactive ('N'): sync_enabled false, its CHeKT list left as it is.
    expect(listed(h, '3300', '7003')).toEqual([]);
  }, 60_000);

  test('edits of the base tables reach CHeKT with the next change tick: a new cell, a name filled in, a contact added', async () => {
    await edit(`UPDATE dealer.emergency_contacts SET cell = '(973) 555-0199', modified = localtimestamp WHERE contact_no = 1`);
    await edit(`UPDATE dealer.emergency_contacts SET lname = 'Baker', modified = localtimestamp WHERE contact_no = 5`);
    await edit(`INSERT INTO dealer.emergency_contacts (contact_no, cust_no, priority, fname, lname, cell) VALUES (8, 40002, 3, 'Pat', 'Quinn', '(973) 555-0113')`);
    const report = await changeTick(h);
    expect(report.counts).toEqual({ create: { succeeded: 2 }, update: { succeeded: 1 } });
    expect(listed(h, '3300', '7001')[0]).toEqual(['1', 'Kowalski', '9735550199']);
    expect(listed(h, '3300', '7002')).toEqual([
      ['4', 'Office', '9735550110'],
      ['5', 'Baker', '9735550112'],
      ['8', 'Quinn', '9735550113'],
    ]);
  }, 60_000);

  test('is_deleted set is a delete: one is ordinary upkeep, made at the next tick', async () => {
    await edit(`UPDATE dealer.emergency_contacts SET is_deleted = true, modified = localtimestamp WHERE contact_no = 2`);
    const report = await changeTick(h);
    expect(report.counts).toEqual({ delete: { succeeded: 1 } });
    expect(listed(h, '3300', '7001').map(([id]) => id)).toEqual(['1']);
  }, 60_000);

  test('a customer whose contacts were all flagged deleted is held, and emptied only once an operator approves', async () => {
    await edit(`UPDATE dealer.emergency_contacts SET is_deleted = true, modified = localtimestamp WHERE cust_no = 40002`);
    const held = await changeTick(h);
    expect(held.counts).toEqual({ delete: { held: 3 } });
    expect(held.held).toEqual([expect.objectContaining({ site: '3300/7002', deletes: 3, managed: 3 })]);
    expect(listed(h, '3300', '7002').map(([id]) => id)).toEqual(['4', '5', '8']);
    const approved = await runSync(h.app, { trigger: 'cli', sites: [{ dealerId: '3300', siteId: '7002' }], dryRun: false, approveDeletes: true, timeoutMs: 30_000 });
    expect(approved.counts).toEqual({ delete: { succeeded: 3 } });
    expect(listed(h, '3300', '7002')).toEqual([]);
  }, 60_000);
});

describe('central-station: a change of a base table reaches CHeKT through the opt-in NOTIFY triggers', () => {
  let cs: CrmExample;
  let h: Harness;
  const edit = (sql: string) => withClient(cs.adminUrl, (c) => c.query(sql));

  beforeAll(async () => {
    cs = await loadCrmExample('central-station', 'cssync');
    const tables = ['cs.accounts', 'cs.people', 'cs.account_contacts', 'cs.contact_points'].map((t) => parseRelationName(t) as RelationName);
    await withClient(cs.adminUrl, (c) => applyTriggers(c, planTriggers(tables)));
    h = await createHarness('cssync', {
      sandbox: { sites: ['5001', '5002', '5003', '5004'].map((siteId) => ({ dealerId: '1201', siteId })) },
      // No tick for an hour: whatever reaches CHeKT below came through a notification.
      env: { CRM_DATABASE_URL: cs.readerUrl, ...views, SYNC_INTERVAL_SECONDS: '3600', NOTIFY_DEBOUNCE_MS: '100' },
    });
    await h.app.startWorkers();
    const first = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
    expect(first.counts).toEqual({ create: { succeeded: 8 } });
    // The next tick is an hour away.
    await startSchedulerAndSettle(h);
  }, 90_000);

  afterAll(async () => {
    await h?.close();
    await cs?.close();
  });

  test('a new mobile number of the global keyholder reaches all three of his sites within seconds, with no tick', async () => {
    const committed = Date.now();
    await edit(`UPDATE cs.contact_points SET number = '(201) 555-0177', updated_at = now() WHERE person_id = 2 AND point_type = 'mobile'`);
    await pollUntil('the new number on the three sites', () => ['5001', '5002', '5003'].every((s) => listed(h, '1201', s).some(([id, , phone]) => id === '2' && phone === '2015550177')), {
      timeoutMs: 15_000,
    });
    expect(Date.now() - committed).toBeLessThan(10_000);
    // A change tick (the payload names a table, not a site), started after the commit.
    const run = await h.app.db.syncRun.findFirst({ orderBy: { startedAt: 'desc' } });
    expect(run).toMatchObject({ mode: 'changes' });
    expect(run!.startedAt.getTime()).toBeGreaterThanOrEqual(committed - 1_000);
  }, 30_000);

  test('a keyholder link inserted in force creates the contact on that site only', async () => {
    await edit(`UPDATE cs.account_contacts SET effective_date = now() WHERE account_id = 3 AND person_id = 5`);
    await pollUntil("Sam Patel on Northgate's site", () => listed(h, '1201', '5003').some(([id]) => id === '5'), { timeoutMs: 15_000 });
    expect(listed(h, '1201', '5003')).toEqual([
      ['2', 'Reilly', '2015550177'],
      ['5', 'Patel', '2015550140'],
      ['7', 'Singh', '2015550161'],
      ['9', 'Haddad', ''],
    ]);
    expect(listed(h, '1201', '5002').map(([id]) => id)).toEqual(['2', '6', '8']);
  }, 30_000);
});
