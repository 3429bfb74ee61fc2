import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient } from '../generated/prisma/client.js';

/**
 * Creates the Prisma client over `@prisma/adapter-pg` (no engine binary; docs/PLATFORM.md#prisma-without-the-engine).
 * The session time zone is pinned to UTC because adapter-pg shifts timestamptz values otherwise
 * (prisma/orm#26786, docs/PLATFORM.md#postgresql-driver), and the pool gives up after `connectionTimeoutMs` instead of waiting forever.
 */
export function createPrisma(options: {
  databaseUrl: string;
  poolSize?: number;
  connectionTimeoutMs?: number;
  /** PostgreSQL `statement_timeout` of every session, in ms (0 = none, the default): a read past it fails. */
  statementTimeoutMs?: number;
}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    options: `-c TimeZone=UTC${options.statementTimeoutMs ? ` -c statement_timeout=${options.statementTimeoutMs}` : ''}`,
  });
  return new PrismaClient({ adapter });
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
