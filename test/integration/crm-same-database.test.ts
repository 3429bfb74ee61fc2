import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { loadCrmExample, type CrmExample } from './support/crm-example.js';
import { withClient } from './support/database.js';
import { createHarness, testEnv, type Harness } from './support/harness.js';
import { run } from './support/spawn.js';

/**
 * The same-database shape of the source contract (docs/CRM.md#our-state-apart): the service's tables live in the
 * partner's own database, in a schema of their own (`DATABASE_SCHEMA=chekt_sync`), while the CRM is read through
 * the contract views by the read-only role. The partner's database gains that one schema and nothing else.
 */

let cs: CrmExample;
let h: Harness;
let schemasBefore: string[];
const SCHEMA = 'chekt_sync';

const schemas = () =>
  withClient(cs.adminUrl, async (c) =>
    (await c.query<{ n: string }>(`SELECT nspname AS n FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY 1`)).rows.map((r) => r.n),
  );
const tablesIn = (schema: string) =>
  withClient(cs.adminUrl, async (c) => (await c.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [schema])).rows.map((r) => r.t));

beforeAll(async () => {
  cs = await loadCrmExample('central-station', 'crmsame');
  schemasBefore = await schemas();
  const migrated = await run('src/db/cli.ts', [], { DATABASE_URL: cs.adminUrl, DATABASE_SCHEMA: SCHEMA }, 60_000);
  expect(migrated.stderr).toBe('');
  expect(migrated.code).toBe(0);
  h = await createHarness('crmsame', {
    sandbox: { sites: ['5001', '5002', '5003', '5004'].map((siteId) => ({ dealerId: '1201', siteId })) },
    env: {
      DATABASE_URL: cs.adminUrl,
      DATABASE_SCHEMA: SCHEMA,
      CRM_DATABASE_URL: cs.readerUrl,
      CRM_SITES_SOURCE: 'crm_contract.sites',
      CRM_CONTACTS_SOURCE: 'crm_contract.contacts',
      SYNC_INTERVAL_SECONDS: '3600',
    },
  });
  await h.app.startWorkers();
}, 90_000);

afterAll(async () => {
  await h?.close();
  await cs?.close();
});

describe('the service state in a schema of its own inside the CRM database', () => {
  test('db:migrate adds one schema, holding every table of the service, and touches no other schema', async () => {
    expect(await schemas()).toEqual([...schemasBefore, SCHEMA].sort());
    expect(await tablesIn(SCHEMA)).toEqual(expect.arrayContaining(['_prisma_migrations', 'sync_ledger', 'sync_runs', 'sync_operations', 'sync_holds']));
    expect(await tablesIn('public')).toEqual([]);
  });

  test('a sync reads the views as the read-only role and keeps its ledger in that schema', async () => {
    const report = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
    expect(report.counts).toEqual({ create: { succeeded: 8 } });
    const ledger = await withClient(cs.adminUrl, async (c) => (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM chekt_sync.sync_ledger WHERE chekt_contact_id IS NOT NULL`)).rows[0]!.n);
    expect(ledger).toBe(8);
    expect(
      h.sandbox
        .contacts('1201', '5002')
        .map((c) => c.external_contact_id)
        .sort(),
    ).toEqual(['2', '6', '8']);
  });

  test('status and sync find the service tables on DATABASE_SCHEMA, not in public', async () => {
    const env = { DATABASE_URL: cs.adminUrl, DATABASE_SCHEMA: SCHEMA, CRM_DATABASE_URL: cs.readerUrl, CRM_SITES_SOURCE: 'crm_contract.sites', CRM_CONTACTS_SOURCE: 'crm_contract.contacts' };
    const status = await run('src/cli/status.ts', ['--json'], env, 60_000);
    expect(status.stderr).toBe('');
    expect(JSON.parse(status.stdout)).toMatchObject({ health: { healthy: true } });
    const sync = await run('src/cli/sync.ts', ['--dry-run'], testEnv(h.sandbox, cs.adminUrl, h.prefix, { ...env, LOG_LEVEL: 'warn' }), 60_000);
    expect(sync.stderr).not.toMatch(/has no chekt-contact-sync tables/);
    expect(sync.code).toBe(0);
  });
});
