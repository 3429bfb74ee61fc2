import { deleteKeysWithPrefix } from '../../src/queue/connection.js';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import { createPrisma, type PrismaClient } from '../../src/source/db.js';
import { createCrmSource, DEFAULT_RELATIONS, type CrmSource } from '../../src/source/crm/database.js';
import { seedCrm, type BenchData } from './data.js';

/**
 * One bench environment: its own PostgreSQL database (dropped and created again), its own Redis key prefix
 * (deleted first) and its own CHeKT sandbox, seeded with one data set. The bench runs two side by side: the
 * service as it is (`changes` ticks) and the naive baseline (`reconcile`: list every site, then write).
 */

/** Server-level URLs; `BENCH_PG_URL` / `BENCH_REDIS_URL` override them (the bench's only environment reads). */
export interface BenchServers {
  /** A database on the server to connect to for DROP/CREATE DATABASE, e.g. `.../postgres`. */
  readonly pgAdminUrl: string;
  readonly redisUrl: string;
  /**
   * `BENCH_TAG`: appended to every database name (`_<tag>`) and Redis prefix (`-<tag>`), so benches of several
   * checkouts on one machine never drop each other's databases. Default none.
   */
  readonly tag?: string | undefined;
}

/** A bench database name or Redis prefix with the servers' tag appended (see {@link BenchServers.tag}). */
export function tagged(servers: BenchServers, name: string, separator: '_' | '-'): string {
  return servers.tag ? `${name}${separator}${servers.tag}` : name;
}

/** A seeded environment. `close()` stops its sandbox and Prisma client (the database is kept for inspection). */
export interface BenchEnv {
  readonly label: string;
  readonly databaseUrl: string;
  readonly prefix: string;
  readonly db: PrismaClient;
  /** The same database read as the CRM through the source contract's default relations. */
  readonly crm: CrmSource;
  readonly sandbox: Sandbox;
  close(): Promise<void>;
}

/** Options of {@link openEnv}. */
export interface OpenEnvOptions {
  readonly label: string;
  /** Database name (dropped and created again). */
  readonly database: string;
  /** Redis key prefix (its keys are deleted first). */
  readonly prefix: string;
  readonly data: BenchData;
  /** Sandbox settings (rate limit, latency); the data set's sites are registered. */
  readonly sandbox: SandboxOptions;
}

/** Drops and recreates the database, migrates it, clears the prefix, seeds the CRM and starts the sandbox. */
export async function openEnv(servers: BenchServers, options: OpenEnvOptions): Promise<BenchEnv> {
  const databaseUrl = await recreateDatabase(servers.pgAdminUrl, options.database);
  await deletePrefix(servers.redisUrl, options.prefix);
  const db = createPrisma({ databaseUrl });
  await seedCrm(db, options.data);
  const crm = createCrmSource({ databaseUrl, relations: DEFAULT_RELATIONS });
  const sandbox = await startSandbox({
    ...options.sandbox,
    sites: options.data.sites.map((s) => ({ dealerId: s.chektDealerId, siteId: s.chektSiteId })),
  });
  return {
    label: options.label,
    databaseUrl,
    prefix: options.prefix,
    db,
    crm,
    sandbox,
    async close() {
      await sandbox.close();
      await Promise.all([db.$disconnect(), crm.close()]);
    },
  };
}

/** `DROP DATABASE ... WITH (FORCE)`, then create and migrate it (src/db/migrate.ts). Returns its URL. */
export async function recreateDatabase(pgAdminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: pgAdminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  await migrate({ databaseUrl: url.toString() });
  return url.toString();
}

/** Deletes every Redis key under `${prefix}:`. */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  await deleteKeysWithPrefix(redisUrl, prefix);
}

/** Settings of one service process (tools/bench/worker.ts) against one environment. */
export interface ServiceSettings {
  readonly ratePerMinute: number;
  readonly workerConcurrency?: number;
  /** Extra variables (e.g. `SYNC_INTERVAL_SECONDS`). */
  readonly extra?: Record<string, string>;
}

/** The environment a service process of `env` is configured from (every variable is in .env.example). */
export function serviceEnv(servers: BenchServers, env: BenchEnv, s: ServiceSettings): Record<string, string> {
  return {
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: servers.redisUrl,
    CHEKT_API_URL: env.sandbox.url,
    CHEKT_CLIENT_ID: 'sandbox-client',
    CHEKT_CLIENT_SECRET: 'sandbox-secret',
    CHEKT_RATE_LIMIT_PER_MINUTE: String(s.ratePerMinute),
    QUEUE_PREFIX: env.prefix,
    WORKER_CONCURRENCY: String(s.workerConcurrency ?? 8),
    // Only notifications and the bench's own commands plan; no scheduled reconcile interferes.
    SYNC_INTERVAL_SECONDS: '86400',
    RECONCILE_CRON: '0 3 1 1 *',
    SYNC_BACKOFF_MS: '500',
    LOG_LEVEL: 'error',
    ...s.extra,
  };
}
