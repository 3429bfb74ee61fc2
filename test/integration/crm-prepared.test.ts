import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createCrmSource, type CrmSource } from '../../src/source/crm/database.js';
import { parseRelationName, type RelationName } from '../../src/source/crm/relations.js';
import { DEFAULT_RULES } from '../../src/domain/contact.js';
import { readOperationRows } from '../../src/source/crm/reads.js';
import { createEmptyDatabase, dropDatabase, withClient } from './support/database.js';

/**
 * The CRM pool prepares the statements it repeats (`DB_PREPARED_STATEMENTS`, src/source/statementNames.ts): the
 * worker's read of an operation's rows is parsed once per connection. A view replaced under a prepared statement
 * keeps working, because every column is read as text.
 */

let url: string;
const sources: CrmSource[] = [];

const rel = (raw: string) => parseRelationName(raw) as RelationName;
const relations = { sites: rel('crm.sites_v'), contacts: rel('crm.contacts_v') };

function open(preparedStatements: boolean): CrmSource {
  const crm = createCrmSource({ databaseUrl: url, relations, poolSize: 1, preparedStatements });
  sources.push(crm);
  return crm;
}

/** Names of the connection's prepared statements that read an operation's rows. */
const prepared = async (crm: CrmSource) =>
  (await crm.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements ORDER BY name')).rows.filter((r) => r.statement.includes('AS read_at')).map((r) => r.name);

async function readOne(crm: CrmSource) {
  const [rows] = await readOperationRows(crm, crm.relations, await crm.shape(), [{ crmSiteId: '7', externalContactId: '70' }], DEFAULT_RULES);
  return rows!;
}

beforeAll(async () => {
  url = await createEmptyDatabase('crmprep');
  await withClient(url, async (c) => {
    await c.query(`CREATE SCHEMA crm;
      CREATE TABLE crm.site (id int PRIMARY KEY, dealer text, site text);
      CREATE TABLE crm.person (id int, site_id int, first text, last text, phone varchar(40));
      INSERT INTO crm.site VALUES (7, 'd7', 's7');
      INSERT INTO crm.person VALUES (70, 7, 'Ann', 'Lee', '+12025550123');
      CREATE VIEW crm.sites_v AS SELECT id, dealer AS chekt_dealer_id, site AS chekt_site_id, 'Site ' || id AS name FROM crm.site;
      CREATE VIEW crm.contacts_v AS SELECT id, site_id, first AS first_name, last AS last_name, phone AS phone_number, NULL::text AS email FROM crm.person;`);
  });
});

afterAll(async () => {
  await Promise.all(sources.map((s) => s.close()));
  await dropDatabase(url);
});

describe('CRM prepared statements', () => {
  test('the read of an operation is prepared on its connection from its second use, and reads the same rows', async () => {
    const crm = open(true);
    const first = await readOne(crm);
    expect(await prepared(crm)).toEqual([]);
    const second = await readOne(crm);
    const names = await prepared(crm);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^cks_\d+$/);
    expect(second.contacts.map((c) => [c.id, c.phone_number])).toEqual([['70', '+12025550123']]);
    const withoutTime = (rows: typeof first.contacts) => rows.map((r) => ({ ...r, read_at: null }));
    expect(withoutTime(second.contacts)).toEqual(withoutTime(first.contacts));
    expect(second.sites.map((s) => s.chekt_site_id)).toEqual(['s7']);
  });

  test('a view replaced with another column type under the prepared statement still reads, as text', async () => {
    const crm = open(true);
    await readOne(crm);
    await readOne(crm);
    expect(await prepared(crm)).toHaveLength(1);
    await withClient(url, (c) =>
      c
        .query(
          `CREATE OR REPLACE VIEW crm.contacts_v AS SELECT id, site_id, first AS first_name, last AS last_name, phone AS phone_number, NULL::text AS email FROM crm.person;
               ALTER TABLE crm.person ALTER COLUMN id TYPE bigint`,
        )
        .catch(async () => {
          // A column a view depends on cannot change type in place: drop and recreate the view around it.
          await c.query(`DROP VIEW crm.contacts_v; ALTER TABLE crm.person ALTER COLUMN id TYPE bigint;
          CREATE VIEW crm.contacts_v AS SELECT id, site_id, first AS first_name, last AS last_name, phone AS phone_number, NULL::text AS email FROM crm.person`);
        }),
    );
    const after = await readOne(crm);
    expect(after.contacts.map((c) => c.id)).toEqual(['70']);
  });

  test('without DB_PREPARED_STATEMENTS nothing is prepared', async () => {
    const crm = open(false);
    await readOne(crm);
    await readOne(crm);
    expect(await prepared(crm)).toEqual([]);
  });
});
