import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import pg from 'pg';
import { checkConnections, PreflightError } from '../../src/preflight.js';
import { createCrmSource, CrmContractError, type CrmSource } from '../../src/source/crm/database.js';
import { parseRelationName, type RelationName } from '../../src/source/crm/relations.js';
import { checkCrmContract } from '../../src/source/crm/startupCheck.js';
import { createPrisma, type PrismaClient } from '../../src/source/db.js';
import { createDatabaseFromTemplate, createEmptyDatabase, dropDatabase, PG_ADMIN_URL, withClient } from './support/database.js';
import { loadCrmExample } from './support/crm-example.js';
import { databaseName, uniqueId } from './support/names.js';
import { run } from './support/spawn.js';

/**
 * `npm run source:check` as a partner runs it (docs/SOURCE-CHECK.md): the compiled command in a child process,
 * configured only by CRM_* variables, against a CRM in a database of its own, read through views by login roles
 * with nothing but the grants each case needs. Also the start-up check (source/crm/startupCheck.ts) through
 * src/preflight.ts `checkConnections`. Roles are cluster-wide: their names are unique to this run and they are
 * dropped in afterAll.
 */

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** What the seeded rows hold that no output may show: names, phones (in pieces, as written and as E.164), e-mails. */
const PERSONAL = ['Amara', 'Okonkwo', 'Bruno', 'Lindqvist', 'Cleo', 'Harbor Depot', '7911', '201 555', '2015550123', '7946', 'amara@example.com', 'bruno@example.com'];

let crmDb: string;
const role = { reader: '', writer: '' };
const roleUrl = (name: string) => {
  const u = new URL(crmDb);
  u.username = name;
  u.password = '';
  return u.toString();
};

beforeAll(async () => {
  role.reader = uniqueId('cks_srcchk_reader').toLowerCase();
  role.writer = uniqueId('cks_srcchk_writer').toLowerCase();
  await withClient(PG_ADMIN_URL, async (server) => {
    for (const r of Object.values(role)) await server.query(`CREATE ROLE ${pg.escapeIdentifier(r)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
  });
  crmDb = await createEmptyDatabase(databaseName('crm'));
  const [reader, writer] = [pg.escapeIdentifier(role.reader), pg.escapeIdentifier(role.writer)];
  await withClient(crmDb, (admin) =>
    admin.query(`
    -- The CRM's own shape: accounts and people, names the partner chose.
    CREATE SCHEMA crm;
    CREATE TABLE crm.accounts (acct text, dealer text, chekt text, title text, active boolean);
    CREATE TABLE crm.people (pid text, acct text, given text, family text, mobile text, mail text, removed timestamptz);
    INSERT INTO crm.accounts VALUES ('A1', '70', '1', 'Harbor Depot', true), ('A2', '70', '2', 'Mill Street', true), ('A3', '70', '3', 'Closed Shop', false);
    INSERT INTO crm.people VALUES
      ('P1', 'A1', 'Amara', 'Okonkwo', '+44 7911 123456', 'amara@example.com', NULL),
      ('P2', 'A1', 'Bruno', 'Lindqvist', '+1 201 555 0123', 'bruno@example.com', NULL),
      ('P1', 'A2', 'Amara', 'Okonkwo', '+44 7911 123456', NULL, NULL),
      ('P3', 'A3', 'Cleo', 'Lindqvist', '+44 20 7946 0018', NULL, NULL),
      ('P9', 'A2', 'Bruno', 'Okonkwo', NULL, NULL, now());
    -- The contract views a partner's DBA writes (clean data).
    CREATE SCHEMA crm_contract;
    CREATE VIEW crm_contract.sites AS SELECT acct AS id, dealer AS chekt_dealer_id, chekt AS chekt_site_id, title AS name, active AS sync_enabled FROM crm.accounts;
    CREATE VIEW crm_contract.contacts AS
      SELECT pid AS id, acct AS site_id, given AS first_name, family AS last_name, mobile AS phone_number, mail AS email, removed AS deleted_at FROM crm.people;
    -- The same shape with bad rows.
    CREATE SCHEMA problems;
    CREATE TABLE problems.site_rows (id text, chekt_dealer_id text, chekt_site_id text, name text);
    CREATE TABLE problems.contact_rows (id text, site_id text, first_name text, last_name text, phone_number text, email text);
    INSERT INTO problems.site_rows VALUES ('B1', '71', '1', 'Harbor Depot'), ('B2', NULL, ' ', 'Mill Street');
    INSERT INTO problems.contact_rows VALUES
      ('D1', 'B1', 'Amara', 'Okonkwo', '+44 7911 123456', NULL),
      ('D1', 'B1', 'Amara', 'Okonkwo', '+44 7911 123456', 'amara@example.com'),
      (NULL, 'B1', 'Bruno', 'Lindqvist', '+1 201 555 0123', NULL),
      ('Q1', 'B404', 'Cleo', 'Okonkwo', '+1 201 555 0123', NULL),
      ('L1', 'B1', 'Cleo', 'Lindqvist', '+44 20 7946 0018', 'bruno@example.com'),
      ('G1', 'B1', 'Bruno', 'Okonkwo', '+1 201 555 0123', NULL);
    CREATE VIEW problems.sites AS SELECT * FROM problems.site_rows;
    CREATE VIEW problems.contacts AS SELECT * FROM problems.contact_rows;
    -- Views that break the contract.
    CREATE SCHEMA broken;
    CREATE VIEW broken.contacts_no_phone AS SELECT pid AS id, acct AS site_id, given AS first_name, family AS last_name, mail AS email FROM crm.people;
    CREATE VIEW broken.contacts_int_array AS
      SELECT pid AS id, acct AS site_id, ARRAY[1, 2]::int[] AS first_name, family AS last_name, mobile AS phone_number, mail AS email FROM crm.people;
    CREATE VIEW broken.contacts_secret AS SELECT * FROM crm_contract.contacts;
    -- Least privilege: USAGE and SELECT on the views only (docs/SOURCE-CHECK.md#what-is-checked); nothing on crm.*.
    GRANT USAGE ON SCHEMA crm_contract, problems, broken TO ${reader}, ${writer};
    GRANT SELECT ON crm_contract.sites, crm_contract.contacts, problems.sites, problems.contacts, broken.contacts_no_phone, broken.contacts_int_array TO ${reader};
    GRANT SELECT, INSERT ON crm_contract.sites, crm_contract.contacts TO ${writer};
  `),
  );
}, 60_000);

afterAll(async () => {
  if (crmDb) await dropDatabase(crmDb);
  await withClient(PG_ADMIN_URL, async (server) => {
    for (const r of Object.values(role)) if (r) await server.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(r)}`);
  });
});

/** `npm run source:check` (compiled) as `who`, over the given relations. */
const sourceCheck = (args: string[], sites: string, contacts: string, who = role.reader) =>
  run('src/cli/sourceCheck.ts', args, { CRM_DATABASE_URL: roleUrl(who), CRM_SITES_SOURCE: sites, CRM_CONTACTS_SOURCE: contacts }, 60_000);
const noPersonalData = (text: string) => {
  for (const p of PERSONAL) expect(text).not.toContain(p);
};

describe('npm run source:check', () => {
  test('a clean contract through views and a read-only role: exit 0, the right counts, ids only', async () => {
    const r = await sourceCheck(['--json'], 'crm_contract.sites', 'crm_contract.contacts');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    noPersonalData(r.stdout);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      exitCode: 0,
      crm: { role: role.reader, sites: { relation: 'crm_contract.sites', kind: 'view' }, contacts: { relation: 'crm_contract.contacts', kind: 'view' } },
      contract: { holds: true, problems: [] },
      readError: null,
    });
    expect(j.crm.database).toBe(roleUrl(role.reader));
    // P9 is soft-deleted; P3 has a landline on a disabled site: counted, not a problem.
    expect(j.data.totals).toEqual({
      sites: 3,
      enabledSites: 2,
      disabledSites: 1,
      invalidSites: 0,
      contacts: 4,
      valid: 4,
      smsUsable: 3,
      noPhone: 1,
      invalid: 0,
      duplicates: 0,
      orphaned: 0,
      onInvalidSites: 0,
    });
    expect(j.data.problems).toMatchObject({ total: 0, items: [], more: 0 });
    expect(j.data.preview).toEqual([
      { crmSiteId: 'A1', dealerId: '70', siteId: '1', syncEnabled: true, siteValid: true, contacts: 2, valid: 2, smsUsable: 2, noPhone: 0, invalid: 0, duplicates: 0 },
      { crmSiteId: 'A2', dealerId: '70', siteId: '2', syncEnabled: true, siteValid: true, contacts: 1, valid: 1, smsUsable: 1, noPhone: 0, invalid: 0, duplicates: 0 },
      { crmSiteId: 'A3', dealerId: '70', siteId: '3', syncEnabled: false, siteValid: true, contacts: 1, valid: 1, smsUsable: 0, noPhone: 1, invalid: 0, duplicates: 0 },
    ]);
    const text = await sourceCheck(['--preview', '1'], 'crm_contract.sites', 'crm_contract.contacts');
    expect(text.code).toBe(0);
    noPersonalData(text.stdout);
    expect(text.stdout.split('\n')[0]).toBe('Source check: OK (exit 0)');
    expect(text.stdout).toMatch(/Contacts: 4 live: 4 valid \(3 SMS-usable, 1 without a usable phone\)/);
    expect(text.stdout).toMatch(/Preview: 1 of 3 sites/);
    expect(text.stdout).toMatch(/│ A1 +│ 70 +│ 1 +│ yes +│ yes +│ 2 +│ 2 +│ 2 +│ 0 +│ 0 +│ 0 +│/);
    expect(text.stdout).not.toMatch(/│ A2 /);
  }, 90_000);

  test('data problems: exit 1, each row or site with its reason, still no personal data', async () => {
    const r = await sourceCheck(['--json'], 'problems.sites', 'problems.contacts');
    expect(r.code).toBe(1);
    noPersonalData(r.stdout);
    const j = JSON.parse(r.stdout);
    expect(j.contract.holds).toBe(true);
    expect(
      j.data.problems.items.map((p: { kind: string; crmSiteId: string | null; externalContactId: string | null; reason: string }) => [p.kind, p.crmSiteId, p.externalContactId, p.reason]),
    ).toEqual([
      ['site', 'B2', null, 'the site has no chekt_dealer_id and chekt_site_id: it is not synced'],
      ['duplicate', 'B1', 'D1', 'two contact rows have this (site_id, id): neither is synced, and the contact is not deleted'],
      ['key', 'B1', null, 'a contact row has an empty id: it is not synced'],
      ['no_phone', 'B1', 'L1', 'the contact has a phone_number that is not SMS-capable (landline): CHeKT cannot text it'],
      ['orphan', 'B404', 'Q1', "the contact's site_id matches no site: it is not synced"],
    ]);
    expect(j.data.totals).toMatchObject({ sites: 2, enabledSites: 1, invalidSites: 1, contacts: 6, valid: 2, smsUsable: 1, noPhone: 1, invalid: 1, duplicates: 2, orphaned: 1 });
    const text = await sourceCheck([], 'problems.sites', 'problems.contacts');
    expect(text.code).toBe(1);
    noPersonalData(text.stdout);
    expect(text.stdout.split('\n')[0]).toBe('Source check: DATA PROBLEMS (exit 1)');
    expect(text.stdout).toMatch(/Data problems: 5: 1 site, 1 empty key, 1 no such site, 1 duplicate key, 1 no usable phone/);
    expect(text.stdout).toMatch(/│ duplicate key +│ B1 +│ D1 +│ two contact rows have this/);
  }, 90_000);

  test('a missing column: exit 2 naming the relation and the column; the data is not read', async () => {
    const r = await sourceCheck([], 'crm_contract.sites', 'broken.contacts_no_phone');
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/THE CONTRACT DOES NOT HOLD \(exit 2\)/);
    expect(r.stdout).toContain('broken.contacts_no_phone has no column phone_number');
    expect(r.stdout).not.toMatch(/Preview/);
  }, 60_000);

  test('a column of an unusable type: exit 2 naming the column and its type', async () => {
    const r = await sourceCheck(['--json'], 'crm_contract.sites', 'broken.contacts_int_array');
    expect(r.code).toBe(2);
    const j = JSON.parse(r.stdout);
    expect(j.contract.holds).toBe(false);
    expect(j.data).toBeNull();
    expect(j.contract.problems).toEqual([
      {
        severity: 'fatal',
        relation: 'broken.contacts_int_array',
        column: 'first_name',
        reason: 'broken.contacts_int_array.first_name is of type integer[]; expected text (or varchar, a number, uuid)',
      },
    ]);
  }, 60_000);

  test('no SELECT on a relation: exit 2 naming the relation and the role', async () => {
    const r = await sourceCheck([], 'crm_contract.sites', 'broken.contacts_secret');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`CRM_CONTACTS_SOURCE: role ${role.reader} has no SELECT on broken.contacts_secret`);
  }, 60_000);

  test('a role that can INSERT: a warning in the output, exit 0', async () => {
    const r = await sourceCheck([], 'crm_contract.sites', 'crm_contract.contacts', role.writer);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`- warning: role ${role.writer} can INSERT on crm_contract.sites: the service only reads; grant SELECT only`);
    expect(r.stdout).toContain(`- warning: role ${role.writer} can INSERT on crm_contract.contacts`);
    expect(r.stdout).toMatch(/Contract: holds/);
  }, 60_000);

  test('a CRM that cannot be reached or bad variables: exit 2 naming the variable, never the password', async () => {
    const refused = await run('src/cli/sourceCheck.ts', [], { CRM_DATABASE_URL: 'postgresql://reader:pw-secret@127.0.0.1:1/crm' }, 30_000);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/CRM_DATABASE_URL: cannot reach the CRM's PostgreSQL at postgresql:\/\/reader:\*\*\*@127\.0\.0\.1:1\/crm: connection refused/);
    expect(refused.stderr).not.toContain('pw-secret');
    const bad = await run('src/cli/sourceCheck.ts', [], { CRM_SITES_SOURCE: 'a.b.c', PHONE_DEFAULT_REGION: 'ZZ' }, 30_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/CRM_SITES_SOURCE: has more than two parts/);
    expect(bad.stderr).toMatch(/PHONE_DEFAULT_REGION: "ZZ" is not a region/);
  }, 60_000);
});

describe('the reference mappings of examples/crm, as a new partner runs the check', () => {
  const check = async (example: 'central-station' | 'dealer-flat') => {
    const ex = await loadCrmExample(example, `sc${example.replace(/-/g, '').slice(0, 6)}`);
    try {
      const env = { CRM_DATABASE_URL: ex.readerUrl, CRM_SITES_SOURCE: 'crm_contract.sites', CRM_CONTACTS_SOURCE: 'crm_contract.contacts' };
      const [json, text] = [await run('src/cli/sourceCheck.ts', ['--json'], env, 60_000), await run('src/cli/sourceCheck.ts', [], env, 60_000)];
      return { json, text, role: ex.role, password: new URL(ex.readerUrl).password };
    } finally {
      await ex.close();
    }
  };
  const items = (stdout: string) =>
    (JSON.parse(stdout).data.problems.items as Array<{ kind: string; crmSiteId: string; externalContactId: string }>).map((p) => [p.kind, p.crmSiteId, p.externalContactId]);

  test('central-station: the contract holds for its read-only role with no warning; the contact without a phone is the one problem', async () => {
    const { json, text, role: reader, password } = await check('central-station');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).contract).toEqual({ holds: true, problems: [] });
    expect(JSON.parse(json.stdout).crm.role).toBe(reader);
    expect(items(json.stdout)).toEqual([['no_phone', 'CS-1003', '9']]);
    for (const out of [json.stdout, text.stdout]) for (const p of ['Omar', 'Haddad', 'Linda', 'tulip', 'rosemary', 'dan.wu@example.com', password]) expect(out).not.toContain(p);
  }, 90_000);

  test('dealer-flat: the contact without a last name is the one problem', async () => {
    const { json, text, password } = await check('dealer-flat');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).contract.holds).toBe(true);
    expect(items(json.stdout)).toEqual([['invalid', '40002', '5']]);
    for (const out of [json.stdout, text.stdout]) for (const p of ['Nina', 'Kowalski', 'Joe', '555-01', '4471', 'nina@brooksidevet.example', password]) expect(out).not.toContain(p);
  }, 90_000);
});

describe('the start-up check', () => {
  const rel = (raw: string) => parseRelationName(raw) as RelationName;
  const sources: CrmSource[] = [];
  const source = (who: string, contacts: string, url = roleUrl(who)) => {
    const s = createCrmSource({ databaseUrl: url, relations: { sites: rel('crm_contract.sites'), contacts: rel(contacts) }, poolSize: 1, connectionTimeoutMs: 5_000 });
    sources.push(s);
    return s;
  };
  let app: { db: PrismaClient; redis: Redis; url: string };

  beforeAll(async () => {
    const url = await createDatabaseFromTemplate(databaseName('app'));
    app = { db: createPrisma({ databaseUrl: url, poolSize: 1 }), redis: new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 }), url };
  }, 60_000);

  afterAll(async () => {
    for (const s of sources) await s.close();
    await app?.db.$disconnect();
    app?.redis.disconnect();
    if (app) await dropDatabase(app.url);
  });

  const config = (crmUrl: string) => ({
    databaseUrl: app.url,
    redisUrl: REDIS_URL,
    redisCluster: undefined,
    crm: { databaseUrl: crmUrl, sites: rel('crm_contract.sites'), contacts: rel('crm_contract.contacts') },
  });

  test('checkCrmContract: a read-only role passes silently; a role that can INSERT is logged as a warning', async () => {
    const quiet: Array<[unknown, string]> = [];
    await checkCrmContract(source(role.reader, 'crm_contract.contacts'), { warn: (o: unknown, m: string) => void quiet.push([o, m]) } as never);
    expect(quiet).toEqual([]);
    const logged: Array<[unknown, string]> = [];
    const inspection = await checkCrmContract(source(role.writer, 'crm_contract.contacts'), { warn: (o: unknown, m: string) => void logged.push([o, m]) } as never);
    expect(inspection.role).toBe(role.writer);
    expect(logged.map(([o, m]) => [o, m.split(':')[0]])).toEqual([
      [{ relation: 'crm_contract.sites', role: role.writer }, `role ${role.writer} can INSERT on crm_contract.sites`],
      [{ relation: 'crm_contract.contacts', role: role.writer }, `role ${role.writer} can INSERT on crm_contract.contacts`],
    ]);
  }, 30_000);

  test('checkConnections with the CRM: no SELECT names the relation and the role; a refused CRM names CRM_DATABASE_URL without the password', async () => {
    const denied = await checkConnections({ db: app.db, redis: app.redis, config: config(roleUrl(role.reader)), crm: source(role.reader, 'broken.contacts_secret') }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(PreflightError);
    expect((denied as Error).message).toBe(`the CRM source contract does not hold (docs/CRM.md#the-contract): CRM_CONTACTS_SOURCE: role ${role.reader} has no SELECT on broken.contacts_secret`);
    const url = 'postgresql://reader:pw-secret@127.0.0.1:1/crm';
    const refused = await checkConnections({ db: app.db, redis: app.redis, config: config(url), crm: source(role.reader, 'crm_contract.contacts', url) }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PreflightError);
    expect((refused as Error).message).toBe(
      "CRM_DATABASE_URL: cannot reach the CRM's PostgreSQL at postgresql://reader:***@127.0.0.1:1/crm: connection refused (nothing listens on that host and port)",
    );
    await expect(checkConnections({ db: app.db, redis: app.redis, config: config(roleUrl(role.reader)), crm: source(role.reader, 'crm_contract.contacts') })).resolves.toBeUndefined();
  }, 60_000);

  test('the contract error type is what checkCrmContract throws', async () => {
    await expect(checkCrmContract(source(role.reader, 'broken.contacts_no_phone'), { warn: () => undefined } as never)).rejects.toBeInstanceOf(CrmContractError);
  }, 30_000);
});
