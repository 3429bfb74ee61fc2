import { PrismaPg } from '@prisma/adapter-pg';
import { createPool } from './pgConnection.js';
import { statementNames } from './statementNames.js';
import { Prisma, PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient } from '../generated/prisma/client.js';

/**
 * Runs one statement built with `Prisma.sql` and resolves with its rows. The statements every operation makes
 * (source/operationContext.ts, source/runs.ts `finishOperation`) take one, so the worker can run them without
 * Prisma's client ({@link Database.sql}) while every other caller passes {@link viaPrisma}. Column values as
 * node-postgres gives them: a `bigint` column may arrive as a bigint (Prisma) or as a string (node-postgres), so
 * read counts with `Number()`.
 */
export type RunSql = <T = Record<string, unknown>>(statement: Prisma.Sql) => Promise<T[]>;

/**
 * SQL of CHeKT sites as a table `t(d, s)` (dealer id, site id) for a join: `unnest` of two text arrays, one
 * parameter each whatever the number of sites.
 */
export function siteRefsTable(sites: ReadonlyArray<{ readonly dealerId: string; readonly siteId: string }>): Prisma.Sql {
  return Prisma.sql`unnest(${sites.map((s) => s.dealerId)}::text[], ${sites.map((s) => s.siteId)}::text[]) AS t(d, s)`;
}

/** {@link RunSql} through Prisma's client (`$queryRaw`). */
export function viaPrisma(db: Pick<PrismaClient, '$queryRaw'>): RunSql {
  return <T>(statement: Prisma.Sql) => db.$queryRaw<T[]>(statement);
}

/** Options of {@link createDatabase}. */
export interface DatabaseOptions {
  readonly databaseUrl: string;
  /** Connections in the pool. Default 10. */
  readonly poolSize?: number;
  /** Longest wait for a connection, in ms. Default 10,000. */
  readonly connectionTimeoutMs?: number;
  /** PostgreSQL `statement_timeout` of every session, in ms (0 = none, the default): a read past it fails. */
  readonly statementTimeoutMs?: number;
  /** Prepare repeated statements once per connection (./statementNames.ts; config `DB_PREPARED_STATEMENTS`). Default false. */
  readonly preparedStatements?: boolean;
  /**
   * Schema of the service's tables (config `DATABASE_SCHEMA`, a lower-case identifier checked by the config): every
   * session's `search_path`, and the schema Prisma's queries name. Default `public`.
   */
  readonly schema?: string;
}

/** One PostgreSQL pool, used by Prisma's client and by {@link sql}. */
export interface Database {
  readonly prisma: PrismaClient;
  /**
   * Runs a statement on the same pool through node-postgres directly: Prisma's client costs about 0.35 ms of CPU
   * per statement on top of it, the largest part of a worker's database time
   * (docs/BENCHMARKS.md#what-stops-a-target-numbers-for-the-core). Errors are node-postgres' own (`code` is the
   * SQLSTATE). The pool closes with `prisma.$disconnect()`.
   */
  readonly sql: RunSql;
}

/**
 * Creates the pool and the Prisma client over it (`@prisma/adapter-pg`, no engine binary;
 * docs/PLATFORM.md#prisma-without-the-engine). The session time zone is pinned to UTC because adapter-pg shifts
 * timestamptz values otherwise (prisma/orm#26786, docs/PLATFORM.md#postgresql-driver), and the pool gives up
 * after `connectionTimeoutMs` instead of waiting forever.
 */
export function createDatabase(options: DatabaseOptions): Database {
  const pool = createPool({
    databaseUrl: options.databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMs: options.connectionTimeoutMs,
    statementTimeoutMs: options.statementTimeoutMs,
    extraOptions: searchPathOption(options.schema),
  });
  // One name per text for both users of the pool: a name must mean the same statement on every connection.
  const name = options.preparedStatements ? statementNames() : () => '';
  const adapter = new PrismaPg(pool, { disposeExternalPool: true, ...(options.schema ? { schema: options.schema } : {}), ...(options.preparedStatements ? { statementNameGenerator: name } : {}) });
  const sql: RunSql = async <T>(statement: Prisma.Sql) => {
    const text = statement.text;
    return (await pool.query({ name: name({ sql: text }), text, values: statement.values as unknown[] })).rows as T[];
  };
  return { prisma: new PrismaClient({ adapter }), sql };
}

/**
 * The libpq `options` part that sets `search_path` to `schema` (nothing for none or `public`, the default).
 * The schema is a lower-case identifier (config `DATABASE_SCHEMA`), so it needs no quoting.
 */
export function searchPathOption(schema: string | undefined): string {
  if (!schema || schema === 'public') return '';
  if (!/^[a-z_][a-z0-9_$]*$/.test(schema)) throw new Error(`DATABASE_SCHEMA: "${schema}" is not a lower-case schema name`);
  return ` -c search_path=${schema}`;
}

/** The Prisma client of a {@link createDatabase} pool, for callers that need nothing else. */
export function createPrisma(options: DatabaseOptions): PrismaClient {
  return createDatabase(options).prisma;
}

/**
 * The database's current time (`clock_timestamp()`): every process compares times on one clock, the one the
 * rows were written with, whatever each machine's own clock says.
 */
export async function dbNow(db: Pick<PrismaClient, '$queryRaw'>): Promise<Date> {
  const rows = await db.$queryRaw<Array<{ now: Date }>>`SELECT clock_timestamp() AS now`;
  return rows[0]!.now;
}

/** One `SELECT 1`: resolves when PostgreSQL answers (the readiness probe, `GET /readyz`); rejects with its error. */
export async function pingDatabase(db: Pick<PrismaClient, '$queryRaw'>): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}
