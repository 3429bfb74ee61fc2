import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { migrate } from '../../../src/db/migrate.js';

/**
 * Test databases cloned from a template. The integration tiers' jest globalSetup (test/support/global-setup.js)
 * migrates one template database per checkout and migration set, once; each test file then gets its own copy
 * with `CREATE DATABASE <name> TEMPLATE <template>` (a file copy, no SQL replayed), instead of running every
 * migration again. The template's name travels to the test workers in {@link TEMPLATE_ENV}.
 *
 * PostgreSQL refuses to copy a database another session is connected to ("source database ... is being accessed
 * by other users", SQLSTATE 55006). The template therefore refuses connections once built (`ALLOW_CONNECTIONS
 * false`), and the steps that need it alone retry while it is still in use (the migrating session's backend can
 * outlive its client by a moment).
 *
 * This module runs in jest's main process too (loaded by tsx from the globalSetup): it imports nothing of jest.
 */

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** The environment variable naming the template database (set by the globalSetup, read by the test workers). */
export const TEMPLATE_ENV = 'CKS_TEST_TEMPLATE_DB';

/** SQLSTATE object_in_use: a database another session is connected to cannot be copied, renamed or dropped. */
const OBJECT_IN_USE = '55006';

/** The URL of database `name` on the server of {@link PG_ADMIN_URL}. */
export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/**
 * The template's name for the checkout at `root`: `cks_tpl_<checkout>_<migrations>`, where `<checkout>` is a
 * hash of the checkout's absolute path (other checkouts run their tests on the same PostgreSQL at the same time)
 * and `<migrations>` a hash of every file under prisma/migrations (names and contents) and of the runner that
 * applies them (src/db/migrate.ts), so a changed migration set gets a new template.
 */
export function templateDatabaseName(root: string): string {
  const checkout = sha256(resolve(root)).slice(0, 8);
  const migrations = createHash('sha256');
  const dir = join(root, 'prisma', 'migrations');
  const runner = join(root, 'src', 'db', 'migrate.ts');
  for (const file of [...filesUnder(dir), ...(existsSync(runner) ? [runner] : [])]) {
    migrations.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return `cks_tpl_${checkout}_${migrations.digest('hex').slice(0, 16)}`;
}

/** Runs `fn` with a client connected to `url` (10 s to connect), closed afterwards. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs `fn` with a connection to the server's `postgres` database. */
const withAdmin = <T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> => withClient(PG_ADMIN_URL, fn);

/** Runs `sql`, again while the database it names is in use by another session, for up to `timeoutMs` (30 s). */
async function queryWhileInUse(admin: pg.Client, sql: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.query(sql);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== OBJECT_IN_USE || Date.now() > deadline) throw err;
      await sleep(Math.min(50 * attempt, 500));
    }
  }
}

const id = (name: string) => pg.escapeIdentifier(name);

/**
 * Makes sure the checkout's template database exists and returns its name ({@link templateDatabaseName}). Built
 * under `<name>_new`, migrated with the product's own runner, closed to connections and only then renamed, so a
 * template under the final name is always complete. An advisory lock per checkout serialises two runs of the same
 * checkout. Templates of this checkout for another migration set (and half-built ones) are dropped.
 */
export async function prepareTemplateDatabase(root: string): Promise<string> {
  const name = templateDatabaseName(root);
  const building = `${name}_new`;
  const checkoutPrefix = name.slice(0, 'cks_tpl_'.length + 9);
  await withAdmin(async (admin) => {
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [checkoutPrefix]);
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount === 0) {
        await admin.query(`DROP DATABASE IF EXISTS ${id(building)} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${id(building)}`);
        await migrate({ databaseUrl: databaseUrl(building), migrationsDir: join(root, 'prisma', 'migrations'), createDatabase: false });
        await queryWhileInUse(admin, `ALTER DATABASE ${id(building)} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`);
        await queryWhileInUse(admin, `ALTER DATABASE ${id(building)} RENAME TO ${id(name)}`);
      }
      const stale = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2', [checkoutPrefix, name]);
      for (const { datname } of stale.rows) {
        await admin.query(`ALTER DATABASE ${id(datname)} WITH IS_TEMPLATE false`);
        await admin.query(`DROP DATABASE ${id(datname)} WITH (FORCE)`);
      }
    } finally {
      await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [checkoutPrefix]);
    }
  });
  return name;
}

/**
 * Creates database `name` as a copy of the template named by {@link TEMPLATE_ENV} (already migrated) and returns
 * its URL.
 * @throws {Error} when the variable is unset: the test runs outside the jest projects that prepare the template.
 */
export async function createDatabaseFromTemplate(name: string): Promise<string> {
  const template = process.env[TEMPLATE_ENV];
  if (!template) {
    throw new Error(`${TEMPLATE_ENV} is not set: run database tests through jest's integration or faults project (jest.config.js), whose globalSetup prepares the template database`);
  }
  await withAdmin((admin) => queryWhileInUse(admin, `CREATE DATABASE ${id(name)} TEMPLATE ${id(template)}`));
  return databaseUrl(name);
}

/** Drops the database at `url`, closing its other connections. */
export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${id(name)} WITH (FORCE)`));
}

/**
 * Creates an empty database `name` (no migrations: a partner's CRM database, say) and returns its URL; drop it with
 * {@link dropDatabase}.
 */
export async function createEmptyDatabase(name: string): Promise<string> {
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${id(name)}`));
  return databaseUrl(name);
}
