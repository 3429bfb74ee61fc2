import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp, type App } from '../../../src/app.js';
import { loadConfig, type Config } from '../../../src/config.js';
import { deleteKeysWithPrefix } from '../../../src/queue/connection.js';
import { createLogger } from '../../../src/logger.js';
import { configSecrets } from '../../../src/scrub.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../../src/sandbox/server.js';
import { createPrisma, type PrismaClient } from '../../../src/source/db.js';
import { generateCrm } from './convergence.js';
import { createDatabaseFromTemplate, dropDatabase } from './database.js';
import { databaseName, queuePrefix } from './names.js';

export { PG_ADMIN_URL } from './database.js';
export { queuePrefix, uniqueId } from './names.js';

/**
 * Integration test harness: a throwaway PostgreSQL database (a copy of the migrated template, support/database.ts),
 * a BullMQ queue prefix of the test file's own on the real Redis (support/names.ts), the CHeKT sandbox over real
 * HTTP, and the app wired as in production. `close()` removes all of it.
 */

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Harness {
  readonly app: App;
  readonly sandbox: Sandbox;
  readonly config: Config;
  readonly databaseUrl: string;
  readonly prefix: string;
  /** Every log line the app wrote, as parsed JSON. */
  readonly logs: Array<Record<string, unknown>>;
  /** Raw log text (for leak checks). */
  rawLogs(): string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly sandbox?: SandboxOptions;
  /** Extra environment for loadConfig. */
  readonly env?: Record<string, string>;
  /** Sets `LISTEN_DATABASE_URL` from the test database's URL (e.g. through a proxy). */
  readonly listenVia?: (databaseUrl: string) => string;
}

/** Creates a fresh migrated database (a copy of the template, support/database.ts) and returns its URL. */
export async function createTestDatabase(label: string): Promise<string> {
  return createDatabaseFromTemplate(databaseName(label));
}

/** Drops a database created by {@link createTestDatabase}, closing its other connections. */
export const dropTestDatabase = dropDatabase;

/** Deletes every Redis key under a queue prefix. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  await deleteKeysWithPrefix(REDIS_URL, prefix);
}

/** Builds the environment the app is configured from, pointing at the sandbox. */
export function testEnv(sandbox: Sandbox, databaseUrl: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: REDIS_URL,
    CHEKT_API_URL: sandbox.url,
    CHEKT_CLIENT_ID: 'sandbox-client',
    CHEKT_CLIENT_SECRET: 'sandbox-secret',
    CHEKT_RATE_LIMIT_PER_MINUTE: '60000',
    QUEUE_PREFIX: prefix,
    SYNC_BACKOFF_MS: '50',
    // Transient failures retry until they succeed (docs/RETRIES.md): a 2 s cap keeps a test's unlucky job quick.
    SYNC_BACKOFF_MAX_MS: '2000',
    LOG_LEVEL: 'debug',
    ...extra,
  };
}

/** Starts everything; see the module comment. */
export async function createHarness(label: string, options: HarnessOptions = {}): Promise<Harness> {
  const databaseUrl = await createTestDatabase(label);
  const sandbox = await startSandbox({ autoCreateSites: false, ...options.sandbox });
  const prefix = queuePrefix(label);
  const listen = options.listenVia ? { LISTEN_DATABASE_URL: options.listenVia(databaseUrl) } : {};
  const config = loadConfig(testEnv(sandbox, databaseUrl, prefix, { ...options.env, ...listen }));
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = createLogger(config.logLevel, sink, { secrets: configSecrets(config) });
  const app = createApp({ config, logger });
  let closed = false;
  return {
    app,
    sandbox,
    config,
    databaseUrl,
    prefix,
    get logs() {
      return lines
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    rawLogs: () => lines.join(''),
    async close() {
      if (closed) return;
      closed = true;
      await app.stop();
      await sandbox.close();
      await deleteRedisPrefix(prefix);
      await dropTestDatabase(databaseUrl);
    },
  };
}

/**
 * Starts the app's job schedulers and the CRM-change listener, then waits (up to 5 s) for the change tick a new
 * `every` job scheduler runs at once (BullMQ) to pass: with a long `SYNC_INTERVAL_SECONDS`, what reaches CHeKT
 * afterwards came through a notification.
 */
export async function startSchedulerAndSettle(h: Harness): Promise<void> {
  await h.app.startScheduler();
  const busy = async () => {
    const c = await h.app.controlQueue.getJobCounts('active', 'wait');
    return (c.active ?? 0) + (c.wait ?? 0) > 0;
  };
  for (let i = 0; i < 50 && (await busy()); i++) await sleep(100);
  await sleep(300);
}

/** A site row for {@link seedCrm}. */
export interface SeedSite {
  id: string;
  dealerId: string;
  siteId: string;
  name?: string;
  syncEnabled?: boolean;
}

/** A contact row for {@link seedCrm}. */
export interface SeedContact {
  id: string;
  siteId: string;
  firstName: string;
  lastName: string;
  phoneNumber?: string | null;
  email?: string | null;
}

/** Inserts CRM sites and contacts and registers the sites in the sandbox. */
export async function seedCrm(h: Harness, sites: SeedSite[], contacts: SeedContact[]): Promise<void> {
  await h.app.db.site.createMany({
    data: sites.map((s) => ({ id: s.id, chektDealerId: s.dealerId, chektSiteId: s.siteId, name: s.name ?? s.id, syncEnabled: s.syncEnabled ?? true })),
  });
  await h.app.db.contact.createMany({
    data: contacts.map((c) => ({ id: c.id, siteId: c.siteId, firstName: c.firstName, lastName: c.lastName, phoneNumber: c.phoneNumber ?? null, email: c.email ?? null })),
  });
  for (const s of sites) h.sandbox.addSite(s.dealerId, s.siteId);
}

/**
 * A harness (log level `warn` unless `env` says otherwise) whose CRM holds `contacts` generated contacts on `sites`
 * sites (support/convergence.ts `generateCrm`, ids prefixed with `label`), also registered in the sandbox.
 * The caller closes it.
 */
export async function createBacklog(label: string, sites: number, contacts: number, env: Record<string, string>, seed: number): Promise<Harness> {
  const h = await createHarness(label, { sandbox: { seed }, env: { LOG_LEVEL: 'warn', ...env } });
  const data = generateCrm({ sites, contacts, idPrefix: label });
  await seedCrm(h, data.sites, data.contacts);
  return h;
}

/** What a test of a separate process (CLI, service) needs: a database, the sandbox, an environment. */
export interface ProcessFixture {
  readonly sandbox: Sandbox;
  readonly databaseUrl: string;
  readonly db: PrismaClient;
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/** Creates a migrated database, a sandbox knowing `sites`, a Prisma client and the child's environment. */
export async function createProcessFixture(label: string, sites: Array<{ dealerId: string; siteId: string }>, extraEnv: Record<string, string> = {}): Promise<ProcessFixture> {
  const databaseUrl = await createTestDatabase(label);
  const sandbox = await startSandbox({ sites });
  const prefix = queuePrefix(label);
  const db = createPrisma({ databaseUrl });
  return {
    sandbox,
    databaseUrl,
    db,
    env: testEnv(sandbox, databaseUrl, prefix, extraEnv),
    async close() {
      await db.$disconnect();
      await sandbox.close();
      await deleteRedisPrefix(prefix);
      await dropTestDatabase(databaseUrl);
    },
  };
}
