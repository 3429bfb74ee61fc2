import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { startRun } from '../../src/sync/startRun.js';
import { loadCrmExample, type CrmExample } from './support/crm-example.js';
import { withClient } from './support/database.js';
import { createHarness, type Harness } from './support/harness.js';

/**
 * The source contract end to end (docs/CRM.md): the central-station example in a database of its own, read only
 * through its contract views by its read-only role (CRM_DATABASE_URL), the service's state in another database.
 * A sync creates one CHeKT contact per (site, person); an edit of a base table reaches CHeKT on the next change
 * tick; a view that starts returning a duplicate key withholds that contact (not updated, not deleted).
 */

let cs: CrmExample;
let h: Harness;
const SITES = [
  { dealerId: '1201', siteId: '5001' },
  { dealerId: '1201', siteId: '5002' },
  { dealerId: '1201', siteId: '5003' },
  { dealerId: '1201', siteId: '5004' },
];
const listed = (siteId: string) =>
  h.sandbox
    .contacts('1201', siteId)
    .map((c) => [c.external_contact_id, c.last_name])
    .sort();

beforeAll(async () => {
  cs = await loadCrmExample('central-station', 'crmsync');
  h = await createHarness('crmsource', {
    sandbox: { sites: SITES },
    env: { CRM_DATABASE_URL: cs.readerUrl, CRM_SITES_SOURCE: 'crm_contract.sites', CRM_CONTACTS_SOURCE: 'crm_contract.contacts', SYNC_INTERVAL_SECONDS: '3600' },
  });
  await h.app.startWorkers();
}, 60_000);

afterAll(async () => {
  await h?.close();
  await cs?.close();
});

describe('a CRM behind contract views, read by a read-only role in a database of its own', () => {
  test('a sync creates one contact per (site, person): the global keyholder on each of his three sites', async () => {
    const report = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
    expect(report.counts.create?.succeeded).toBe(8);
    expect(listed('5001')).toEqual([
      ['1', 'Ortiz'],
      ['2', 'Reilly'],
    ]);
    expect(listed('5002').map(([id]) => id)).toEqual(['2', '6', '8']);
    expect(listed('5003').map(([id]) => id)).toEqual(['2', '7', '9']);
    // The cancelled account's site is disabled in the view: left as it is.
    expect(listed('5004')).toEqual([]);
  });

  test('an edit of a base table reaches CHeKT with the next change tick, on every site of that person', async () => {
    await withClient(cs.adminUrl, (c) => c.query(`UPDATE cs.people SET last_name = 'Reilly-Hart' WHERE person_id = 2`));
    const { summary } = await startRun(h.app.planDeps, { mode: 'changes', trigger: 'cli', dryRun: false });
    expect(summary.totals).toMatchObject({ updates: 3, creates: 0, deletes: 0 });
    for (let i = 0; i < 100 && !listed('5003').some(([, n]) => n === 'Reilly-Hart'); i++) await new Promise((r) => setTimeout(r, 100));
    for (const site of ['5001', '5002', '5003']) expect(listed(site)).toContainEqual(['2', 'Reilly-Hart']);
  });

  test('a duplicate (site_id, id) in the view is reported and withheld: nothing is deleted for it', async () => {
    // A broken view (as a careless join would make it): Maria returned twice on CS-1001, and her name edited.
    await withClient(cs.adminUrl, async (c) => {
      const { rows } = await c.query<{ def: string }>(`SELECT pg_get_viewdef('crm_contract.contacts'::regclass) AS def`);
      const def = rows[0]!.def.replace(/;\s*$/, '');
      await c.query(`CREATE OR REPLACE VIEW crm_contract.contacts AS SELECT * FROM (${def}) a UNION ALL SELECT * FROM (${def}) b WHERE b.id = '1'`);
      await c.query(`UPDATE cs.people SET last_name = 'Ortiz-Diaz' WHERE person_id = 1`);
    });
    const before = listed('5001');
    const { summary } = await startRun(h.app.planDeps, { mode: 'changes', trigger: 'cli', dryRun: false });
    expect(summary.totals).toMatchObject({ creates: 0, updates: 0, deletes: 0 });
    expect(summary.sourceProblems).toEqual([expect.objectContaining({ crmSiteId: 'CS-1001', externalContactId: '1', reason: expect.stringContaining('two contact rows') })]);
    expect(listed('5001')).toEqual(before);
  });

  test('a view that fails while it is read plans nothing, and the error names the relations and the SQLSTATE', async () => {
    await withClient(cs.adminUrl, async (c) => {
      const { rows } = await c.query<{ def: string }>(`SELECT pg_get_viewdef('crm_contract.contacts'::regclass) AS def`);
      const def = rows[0]!.def.replace(/;\s*$/, '');
      await c.query(`CREATE OR REPLACE VIEW crm_contract.contacts AS SELECT a.* FROM (${def}) a WHERE 1 / (CASE WHEN a.id = '1' THEN 0 ELSE 1 END) = 1`);
    });
    const before = SITES.map((s) => listed(s.siteId));
    await expect(startRun(h.app.planDeps, { mode: 'changes', trigger: 'cli', dryRun: false })).rejects.toThrow(
      'reading the CRM (crm_contract.sites, crm_contract.contacts) failed: division by zero (SQLSTATE 22012)',
    );
    expect(SITES.map((s) => listed(s.siteId))).toEqual(before);
  });
});
