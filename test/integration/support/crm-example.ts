import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createEmptyDatabase, dropDatabase, PG_ADMIN_URL, withClient } from './database.js';
import { databaseName, uniqueId } from './names.js';

/**
 * The reference CRM mappings of examples/crm/ (docs/CRM.md#the-examples), loaded as their READMEs say: psql runs
 * schema.sql, seed.sql, contract.sql and role.sql in a database of the test file's own, and the read-only role gets
 * a name of the file's own too (roles are cluster-wide: other checkouts test on the same server).
 */

const run = promisify(execFile);

/** The example folders under examples/crm/. */
export type ExampleName = 'central-station' | 'dealer-flat';

/** A loaded example; `close()` drops the database, then the role. */
export interface CrmExample {
  /** The database, as its owner (the server's admin user): what a CRM's DBA connects with. */
  readonly adminUrl: string;
  /** The same database as the read-only role of role.sql: what CRM_DATABASE_URL is set to. */
  readonly readerUrl: string;
  readonly role: string;
  close(): Promise<void>;
}

/**
 * Runs `psql -X -v ON_ERROR_STOP=1 -f <file>` on `url` with `vars` (`-v name=value`).
 * @throws {Error} with psql's stderr when it exits non-zero.
 */
export async function psqlFile(url: string, file: string, vars: Record<string, string> = {}): Promise<string> {
  const args = [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...Object.entries(vars).flatMap(([k, v]) => ['-v', `${k}=${v}`]), '-f', file];
  const { stdout } = await run('psql', args, { env: { PATH: process.env.PATH ?? '', PGCONNECT_TIMEOUT: '10' } });
  return stdout;
}

/** Creates a database of the file's own and runs the example's four files in it, as its README says. */
export async function loadCrmExample(example: ExampleName, label: string = example.replace(/-/g, '')): Promise<CrmExample> {
  const dir = join('examples', 'crm', example);
  const adminUrl = await createEmptyDatabase(databaseName(label));
  const role = uniqueId(`cks_reader_${label}`).toLowerCase();
  const password = uniqueId('pw');
  const close = async () => {
    await dropDatabase(adminUrl);
    await dropRole(role);
  };
  try {
    for (const file of ['schema.sql', 'seed.sql', 'contract.sql']) await psqlFile(adminUrl, join(dir, file));
    await psqlFile(adminUrl, join(dir, 'role.sql'), { crm_role: role, crm_password: password });
  } catch (err) {
    await close();
    throw err;
  }
  const reader = new URL(adminUrl);
  reader.username = role;
  reader.password = password;
  return { adminUrl, readerUrl: reader.toString(), role, close };
}

/** Drops `role` (its grants went with the example's database). */
async function dropRole(role: string): Promise<void> {
  await withClient(PG_ADMIN_URL, (admin) => admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`));
}
