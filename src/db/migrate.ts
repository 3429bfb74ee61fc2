import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { connectionConfig } from '../source/pgConnection.js';

/**
 * Applies pending Prisma migrations without Prisma's native schema engine.
 *
 * Why our own code: `prisma migrate deploy` needs the schema engine binary, which cannot be downloaded on
 * air-gapped machines (docs/PLATFORM.md#prisma-without-the-engine). This runner reads the same
 * `prisma/migrations/<name>/migration.sql` files and records them in Prisma's own `_prisma_migrations` table
 * (same columns; checksum = sha256 hex of the file), so `prisma migrate deploy|status` agree with it wherever
 * the engine exists.
 *
 * Concurrency: a session-level advisory lock serialises concurrent starters (two processes starting at once
 * apply each migration exactly once). Each migration runs in its own transaction.
 */

/** Fixed key for `pg_advisory_lock`; any constant unique to this project. */
const LOCK_KEY = 72_707_365_471;

/** Prisma's DDL for its bookkeeping table (as created by prisma migrate). */
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Result of {@link migrate}: names of migrations applied now and those already applied before. */
export interface MigrateResult {
  readonly applied: string[];
  readonly alreadyApplied: string[];
  /** True when the database itself did not exist and was created. */
  readonly createdDatabase: boolean;
}

/** Thrown when a recorded migration's file changed since it was applied, or a migration failed earlier. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/**
 * Applies every pending migration in `migrationsDir` (default `prisma/migrations` under the cwd) to the
 * database at `databaseUrl`, creating the database itself first when `createDatabase` is true (default; the
 * service passes false so a mistyped `DATABASE_URL` fails instead of creating an empty database).
 * @throws {MigrationError} on a checksum mismatch or a migration left failed by an earlier run.
 */
export async function migrate(options: { databaseUrl: string; migrationsDir?: string; createDatabase?: boolean; schema?: string }): Promise<MigrateResult> {
  const dir = options.migrationsDir ?? join(process.cwd(), 'prisma', 'migrations');
  const createdDatabase = (options.createDatabase ?? true) ? await ensureDatabase(options.databaseUrl) : false;
  const migrations = await readMigrations(dir);
  const client = new pg.Client({ ...connectionConfig(options.databaseUrl), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    // The service's tables in a schema of their own (config DATABASE_SCHEMA, docs/CRM.md#our-state-apart).
    if (options.schema && options.schema !== 'public') {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(options.schema)}`);
      await client.query(`SET search_path TO ${pg.escapeIdentifier(options.schema)}`);
    }
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
    );
    const done = new Map(rows.filter((r) => r.rolled_back_at === null).map((r) => [r.migration_name, r]));
    const result: MigrateResult = { applied: [], alreadyApplied: [], createdDatabase };
    for (const m of migrations) {
      const row = done.get(m.name);
      if (row?.finished_at) {
        if (row.checksum !== m.checksum) {
          throw new MigrationError(`migration ${m.name} was modified after it was applied (checksum differs)`);
        }
        result.alreadyApplied.push(m.name);
        continue;
      }
      if (row) throw new MigrationError(`migration ${m.name} failed in an earlier run; resolve it before migrating`);
      await applyOne(client, m);
      result.applied.push(m.name);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}

interface Migration {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

async function readMigrations(dir: string): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

async function applyOne(client: pg.Client, m: Migration): Promise<void> {
  const id = randomUUID();
  await client.query('BEGIN');
  try {
    await client.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)', [id, m.checksum, m.name]);
    await client.query(m.sql);
    await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`);
  }
}

/**
 * Creates the database named in `databaseUrl` when it does not exist (connecting to `postgres` to do so).
 * Returns true when this call created it.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const target = new URL(databaseUrl);
  const dbName = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!dbName) return false;
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ ...connectionConfig(admin.toString()), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (rowCount !== 0) return false;
    return await client.query(`CREATE DATABASE ${pg.escapeIdentifier(dbName)}`).then(
      () => true,
      (err: { code?: string }) => {
        if (err.code !== '42P04' && err.code !== '23505') throw err; // created concurrently by another process
        return false;
      },
    );
  } finally {
    await client.end();
  }
}
