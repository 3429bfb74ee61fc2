import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createDatabase, type Database } from '../../src/source/db.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { createDatabaseFromTemplate, dropDatabase, withClient } from './support/database.js';
import { databaseName } from './support/names.js';

/**
 * The service's pool survives its idle connections being cut (a PostgreSQL restart, `pg_terminate_backend`)
 * while only `Database.sql` has used it: Prisma's adapter listens for the pool's errors only once Prisma connects.
 */

let url: string;
let database: Database;

beforeAll(async () => {
  url = await createDatabaseFromTemplate(databaseName('poolerr'));
  database = createDatabase({ databaseUrl: url, poolSize: 2 });
});

afterAll(async () => {
  await database.prisma.$disconnect();
  await dropDatabase(url);
});

test('an idle connection terminated by the server is an error handled by the pool, and the next statement reconnects', async () => {
  const marker = `cks-poolerr-${process.pid}`;
  await database.sql(Prisma.sql`SELECT set_config('application_name', ${marker}, false)`);
  const killed = await withClient(url, async (c) => (await c.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1`, [marker])).rows);
  expect(killed).toEqual([{ ok: true }]);
  // The idle client's 'error' event arrives now; without a listener it is thrown and fails the test file.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const rows = await database.sql<{ one: number }>(Prisma.sql`SELECT 1 AS one`);
  expect(rows).toEqual([{ one: 1 }]);
});
