import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { loadCrmExample, psqlFile, type CrmExample } from './support/crm-example.js';
import { withClient } from './support/database.js';
import { run } from './support/spawn.js';

/**
 * The reference mappings of examples/crm/ (docs/CRM.md#the-examples) on a real PostgreSQL: each example's four
 * files run by psql in a database of their own, then read AS THE READ-ONLY ROLE role.sql creates, which sees
 * exactly the contract rows and nothing of the base tables; and the opt-in NOTIFY triggers of `npm run
 * crm:triggers` (docs/CRM.md#notify-triggers-opt-in) on the central-station tables.
 */

let cs: CrmExample;
let df: CrmExample;

beforeAll(async () => {
  [cs, df] = await Promise.all([loadCrmExample('central-station'), loadCrmExample('dealer-flat')]);
}, 60_000);

afterAll(async () => {
  await Promise.all([cs?.close(), df?.close()]);
});

const asReader = <T>(ex: CrmExample, fn: (c: pg.Client) => Promise<T>) => withClient(ex.readerUrl, fn);
const asAdmin = <T>(ex: CrmExample, fn: (c: pg.Client) => Promise<T>) => withClient(ex.adminUrl, fn);

/** The rows of `sql` as arrays of their values, in column order. */
async function rows(c: pg.Client, sql: string): Promise<unknown[][]> {
  const r = await c.query({ text: sql, rowMode: 'array' });
  return r.rows as unknown[][];
}

/** The SQLSTATE `sql` fails with, or 'ok'. */
async function sqlState(c: pg.Client, sql: string): Promise<string> {
  try {
    await c.query(sql);
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

const CONTRACT_SITES = [
  ['id', 'text'],
  ['chekt_dealer_id', 'text'],
  ['chekt_site_id', 'text'],
  ['name', 'text'],
  ['sync_enabled', 'boolean'],
  ['updated_at', 'timestamp with time zone'],
];
const CONTRACT_CONTACTS = [
  ['id', 'text'],
  ['site_id', 'text'],
  ['first_name', 'text'],
  ['last_name', 'text'],
  ['phone_number', 'text'],
  ['email', 'text'],
];

/** The columns of crm_contract.`view` the connected role can see, with their types. */
const columns = (c: pg.Client, view: string) =>
  rows(c, `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'crm_contract' AND table_name = '${view}' ORDER BY ordinal_position`);

describe('central-station', () => {
  test('the views have the contract columns and types, and no passcode', async () => {
    await asReader(cs, async (c) => {
      expect(await columns(c, 'sites')).toEqual(CONTRACT_SITES);
      expect(await columns(c, 'contacts')).toEqual([...CONTRACT_CONTACTS, ['updated_at', 'timestamp with time zone']]);
    });
  });

  test('sites: the accounts with CHeKT ids; a cancelled one is a site with sync_enabled false', async () => {
    await asReader(cs, async (c) => {
      expect(await rows(c, 'SELECT id, chekt_dealer_id, chekt_site_id, name, sync_enabled FROM crm_contract.sites ORDER BY id')).toEqual([
        ['CS-1001', '1201', '5001', 'Harbor Street Pharmacy', true],
        ['CS-1002', '1201', '5002', 'Lakeside Dental', true],
        ['CS-1003', '1201', '5003', 'Northgate Warehouse', true],
        ['CS-1004', '1201', '5004', 'Old Mill Bakery', false],
      ]);
    });
  });

  test('contacts: decision makers in force, one per (site, person), the first mobile or else a home or work number', async () => {
    await asReader(cs, async (c) => {
      expect(await rows(c, 'SELECT site_id, id, first_name, last_name, phone_number, email FROM crm_contract.contacts ORDER BY site_id, id::int')).toEqual([
        ['CS-1001', '1', 'Maria', 'Ortiz', '(201) 555-0101', 'maria.ortiz@example.com'],
        // The global keyholder: the same id on three sites; his mobile is second in his order (work first).
        ['CS-1001', '2', 'Tom', 'Reilly', '(201) 555-0111', 'dispatch@reilly-patrol.example'],
        ['CS-1002', '2', 'Tom', 'Reilly', '(201) 555-0111', 'dispatch@reilly-patrol.example'],
        // Home only: the fallback.
        ['CS-1002', '6', 'Edith', 'Brown', '(201) 555-0150', null],
        // Owner and keyholder of the same account: one contact; the fax before her mobile is skipped.
        ['CS-1002', '8', 'Grace', 'Lee', '(201) 555-0171', 'grace@lakeside-dental.example'],
        ['CS-1003', '2', 'Tom', 'Reilly', '(201) 555-0111', 'dispatch@reilly-patrol.example'],
        // Work, mobile, mobile: the first mobile.
        ['CS-1003', '7', 'Raj', 'Singh', '(201) 555-0161', 'raj@northgate.example'],
        // ECV with a fax only: no phone at all.
        ['CS-1003', '9', 'Omar', 'Haddad', null, null],
        ['CS-1004', '11', 'Ana', 'Costa', '(201) 555-0191', null],
      ]);
      // Left out: the technician (3), the expired keyholder (4), the one not yet in force (5), the agent (10), and
      // the owner of the account without CHeKT (12).
      expect(await rows(c, "SELECT count(*)::int FROM crm_contract.contacts WHERE id IN ('3', '4', '5', '10', '12')")).toEqual([[0]]);
      expect(await rows(c, 'SELECT count(*)::int FROM (SELECT DISTINCT site_id, id FROM crm_contract.contacts) k')).toEqual([[9]]);
    });
  });

  test('a link enters the view once in force (updated_at then says when) and leaves it once its expire date passes', async () => {
    const inForce = await asAdmin(cs, async (c) => {
      await c.query("UPDATE cs.account_contacts SET expire_date = now() + interval '1 second' WHERE person_id = 7");
      return (await c.query<{ effective_date: Date }>('UPDATE cs.account_contacts SET effective_date = now() WHERE person_id = 5 RETURNING effective_date')).rows[0]!.effective_date;
    });
    await new Promise((r) => setTimeout(r, 1_100));
    await asReader(cs, async (c) => {
      expect(await rows(c, "SELECT site_id, id, phone_number, updated_at FROM crm_contract.contacts WHERE id IN ('5', '7')")).toEqual([['CS-1003', '5', '(201) 555-0140', inForce]]);
    });
    await asAdmin(cs, (c) =>
      c.query("UPDATE cs.account_contacts SET effective_date = now() + interval '20 days' WHERE person_id = 5; UPDATE cs.account_contacts SET expire_date = NULL WHERE person_id = 7"),
    );
  });

  test('the role reads the views only: no base table, no passcode, no writes, read-only sessions', async () => {
    await asReader(cs, async (c) => {
      expect(await rows(c, 'SHOW default_transaction_read_only')).toEqual([['on']]);
      expect(await sqlState(c, 'SELECT passcode FROM cs.people')).toBe('42501');
      expect(await sqlState(c, 'SELECT * FROM cs.accounts')).toBe('42501');
      expect(await sqlState(c, "INSERT INTO crm_contract.sites (id, chekt_dealer_id, chekt_site_id, name) VALUES ('x', '1', '2', 'x')")).toBe('42501');
      // Even in a read-write transaction the privilege is missing (crm_contract.sites is an updatable view).
      expect(await sqlState(c, 'BEGIN READ WRITE')).toBe('ok');
      expect(await sqlState(c, "UPDATE crm_contract.sites SET name = 'x'")).toBe('42501');
      expect(await sqlState(c, 'ROLLBACK')).toBe('ok');
      expect(await sqlState(c, 'CREATE TEMP TABLE t (x int)')).toBe('25006');
      expect(await rows(c, "SELECT has_table_privilege('crm_contract.contacts', 'INSERT'), has_schema_privilege('cs', 'USAGE'), has_schema_privilege('crm_contract', 'CREATE')")).toEqual([
        [false, false, false],
      ]);
    });
  });

  test('role.sql without a password stops before creating anything', async () => {
    const failed = await psqlFile(cs.adminUrl, 'examples/crm/central-station/role.sql', { crm_role: `${cs.role}_x` }).catch((err: Error & { stderr?: string }) => err);
    // execFile's error carries psql's stderr (an Error of another realm: jest runs tests in a VM context).
    expect(failed).toHaveProperty('code', 3);
    expect((failed as { stderr?: string }).stderr).toMatch(/role\.sql: set the new role's password with -v crm_password=/);
    await asAdmin(cs, async (c) => expect(await rows(c, `SELECT count(*)::int FROM pg_roles WHERE rolname = '${cs.role}_x'`)).toEqual([[0]]));
  });
});

describe('dealer-flat', () => {
  test('the views have the contract columns and types, deleted_at included', async () => {
    await asReader(df, async (c) => {
      expect(await columns(c, 'sites')).toEqual(CONTRACT_SITES);
      expect(await columns(c, 'contacts')).toEqual([...CONTRACT_CONTACTS, ['deleted_at', 'timestamp with time zone'], ['updated_at', 'timestamp with time zone']]);
    });
  });

  test('sites: customers with a CHeKT site (an empty one is none), active Y/N as sync_enabled, local times with their zone', async () => {
    await asReader(df, async (c) => {
      expect(await rows(c, 'SELECT id, chekt_dealer_id, chekt_site_id, name, sync_enabled, updated_at FROM crm_contract.sites ORDER BY id')).toEqual([
        ['40001', '3300', '7001', 'Brookside Veterinary', true, new Date('2026-11-02T14:15:00Z')],
        ['40002', '3300', '7002', 'Elm Ridge Apartments', true, new Date('2026-11-03T19:40:00Z')],
        ['40003', '3300', '7003', 'Corner Hardware', false, new Date('2026-10-20T12:00:00Z')],
      ]);
    });
  });

  test('contacts: renamed columns, empty strings as null, the cell or else the home phone, is_deleted as deleted_at', async () => {
    await asReader(df, async (c) => {
      expect(await rows(c, 'SELECT site_id, id, first_name, last_name, phone_number, email, deleted_at FROM crm_contract.contacts ORDER BY id::int')).toEqual([
        ['40001', '1', 'Nina', 'Kowalski', '(973) 555-0101', 'nina@brooksidevet.example', null],
        ['40001', '2', 'Luis', 'Ferreira', '(973) 555-0102', null, null],
        ['40001', '3', 'Karen', 'Mills', '(973) 555-0103', 'karen@example.com', new Date('2026-11-20T22:30:00Z')],
        ['40002', '4', 'Elm Ridge', 'Office', '(973) 555-0110', 'office@elmridge.example', null],
        ['40002', '5', 'Joe', null, '(973) 555-0112', null, null],
        ['40003', '6', 'Ray', 'Corner', '(973) 555-0120', null, null],
      ]);
    });
  });

  test('the role reads the views only: no base table, no passcode, no writes', async () => {
    await asReader(df, async (c) => {
      expect(await sqlState(c, 'SELECT passcode FROM dealer.emergency_contacts')).toBe('42501');
      expect(await sqlState(c, 'SELECT * FROM dealer.customers')).toBe('42501');
      expect(await sqlState(c, 'BEGIN READ WRITE')).toBe('ok');
      // crm_contract.sites is an updatable view (one table): only the missing privilege stops a DELETE.
      expect(await sqlState(c, 'DELETE FROM crm_contract.sites')).toBe('42501');
      expect(await sqlState(c, 'ROLLBACK')).toBe('ok');
    });
  });
});

describe('npm run crm:triggers on the central-station tables', () => {
  const tables = ['cs.accounts', 'cs.people', 'cs.account_contacts', 'cs.contact_points'];
  const tableArgs = tables.flatMap((t) => ['--table', t]);

  /** Notifications on chekt_contact_sync received by the read-only role while `act` runs as admin (300 ms after). */
  async function notificationsDuring(act: (admin: pg.Client) => Promise<unknown>): Promise<string[]> {
    return asReader(cs, async (listener) => {
      const got: string[] = [];
      listener.on('notification', (n) => {
        if (n.channel === 'chekt_contact_sync') got.push(n.payload ?? '');
      });
      await listener.query('LISTEN chekt_contact_sync');
      await asAdmin(cs, act);
      await new Promise((r) => setTimeout(r, 300));
      return got;
    });
  }

  test('the printed SQL runs in psql; a base-table UPDATE then notifies *cs.<table>, once per statement', async () => {
    const printed = await run('src/cli/crmTriggers.ts', tableArgs, {});
    expect(printed.code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'crm-triggers-'));
    try {
      writeFileSync(join(dir, 'triggers.sql'), printed.stdout);
      await psqlFile(cs.adminUrl, join(dir, 'triggers.sql'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const got = await notificationsDuring(async (admin) => {
      await admin.query("UPDATE cs.contact_points SET number = '(201) 555-0199', updated_at = now() WHERE person_id = 1 AND point_type = 'mobile'");
      // Twelve rows in one statement, and a transaction touching two tables.
      await admin.query('UPDATE cs.people SET updated_at = now() WHERE person_id <= 12');
      await admin.query(
        'BEGIN; UPDATE cs.accounts SET updated_at = now() WHERE account_id = 2; UPDATE cs.people SET updated_at = now() WHERE person_id = 2; UPDATE cs.people SET updated_at = now() WHERE person_id = 3; COMMIT',
      );
      await admin.query('BEGIN; UPDATE cs.account_contacts SET call_order = 9 WHERE person_id = 3; ROLLBACK');
    });
    expect(got).toEqual(['*cs.contact_points', '*cs.people', '*cs.accounts', '*cs.people']);
    await asReader(cs, async (c) => expect(await rows(c, "SELECT phone_number FROM crm_contract.contacts WHERE id = '1'")).toEqual([['(201) 555-0199']]));
  }, 30_000);

  test('--apply runs it again as the owner (the triggers replaced), and refuses the read-only role and a view, naming them', async () => {
    const again = await run('src/cli/crmTriggers.ts', [...tableArgs, '--apply'], { CRM_ADMIN_DATABASE_URL: cs.adminUrl });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('  function cs.chekt_contact_sync_notify(): created or replaced\n  trigger on cs.accounts: replaced\n  trigger on cs.people: replaced\n');
    const reader = await run('src/cli/crmTriggers.ts', ['--table', 'cs.accounts', '--apply', '--admin-url', cs.readerUrl], {});
    expect(reader.code).toBe(1);
    expect(reader.stderr).toMatch(new RegExp(`function cs\\.chekt_contact_sync_notify\\(\\): role "${cs.role}" is read-only`));
    expect(reader.stderr).not.toContain(new URL(cs.readerUrl).password);
    const view = await run('src/cli/crmTriggers.ts', ['--table', 'cs.people', '--table', 'crm_contract.contacts', '--apply', '--admin-url', cs.adminUrl], {});
    expect(view.code).toBe(1);
    expect(view.stderr).toMatch(/table crm_contract\.contacts: not a table \("contacts" is a view\)/);
    const missing = await run('src/cli/crmTriggers.ts', ['--table', 'cs.nope', '--apply', '--admin-url', cs.adminUrl], {});
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/table cs\.nope: undefined table: cs\.nope does not exist/);
    // All or nothing: the failed run left the triggers as they were, and the trigger on crm_contract.contacts absent.
    const got = await notificationsDuring((admin) => admin.query('UPDATE cs.accounts SET updated_at = now() WHERE account_id = 1'));
    expect(got).toEqual(['*cs.accounts']);
  }, 60_000);

  test('bad usage exits 2: a hostile name, no table, --apply without a URL', async () => {
    const hostile = await run('src/cli/crmTriggers.ts', ['--table', 'cs.people;drop table cs.people'], {});
    expect(hostile.code).toBe(2);
    expect(hostile.stderr).toMatch(/--table "cs\.people;drop table cs\.people": unexpected ";drop table cs\.peopl" after "people"/);
    expect((await run('src/cli/crmTriggers.ts', [], {})).code).toBe(2);
    const noUrl = await run('src/cli/crmTriggers.ts', ['--table', 'cs.people', '--apply'], {});
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/--apply needs an admin connection: --admin-url <url> or CRM_ADMIN_DATABASE_URL/);
  }, 30_000);
});
