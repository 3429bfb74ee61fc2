import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Prisma } from '../../../src/generated/prisma/client.js';
import { DEFAULT_RULES } from '../../../src/domain/contact.js';
import { fingerprintSql, rulesKey } from '../../../src/source/crm/sql.js';
import { createPrisma, type PrismaClient } from '../../../src/source/db.js';
import { deletePrefix, recreateDatabase } from '../env.js';
import type { BenchContext } from '../measure.js';
import type { Row } from '../table.js';

/**
 * `--large`: plans a change tick over a CRM of 100,000 contacts on 30,000 sites (targets: under 2 s and under
 * 300 MB). The CRM is seeded in SQL (generate_series), and the ledger as already synced with the service's own
 * fingerprint SQL (source/changes.ts `fingerprintSql`), so "nothing changed" is exactly what a tick sees after
 * a complete sync. The plan runs in a child process (../largePlan.ts) so its RSS is its own. A second round
 * changes 1 % of the contacts first, which shows the cost of enqueueing.
 */

const DATABASE = 'chekt_contact_sync_bench_large';
/** The CRM, in a database of its own (as a partner's CRM on another server): read through CRM_DATABASE_URL. */
const CRM_DATABASE = 'chekt_contact_sync_bench_large_crm';
const PREFIX = 'chekt-sync-bench-large';
const CHILD = fileURLToPath(new URL('../largePlan.ts', import.meta.url));
/** The child compiled (tsconfig.bench.json), as production runs the service: the default runtime. */
const CHILD_COMPILED = CHILD.replace(/\/tools\/bench\/largePlan\.ts$/, '/dist-bench/tools/bench/largePlan.js');

/** Size of the large CRM. */
export interface LargeSetup {
  readonly sites: number;
  readonly contacts: number;
}

interface ChildResult {
  readonly baseRssMb: number;
  readonly maxRssMb: number;
  /** The worst event-loop block while planning, ms. */
  readonly maxBlockMs: number;
  readonly ticks: ReadonlyArray<{ planMs: number; planned: number }>;
  /** One full reachability read (every enabled site's contacts classified), after the ticks. */
  readonly reachRead: { readonly ms: number; readonly warmMs: number; readonly unreachable: number; readonly rssMb: number };
}

/** Seeds, plans twice (nothing changed; then 1 % changed), appends two rows. */
export async function runLargePlan(ctx: BenchContext, setup: LargeSetup, rows: Row[]): Promise<void> {
  const databaseUrl = await recreateDatabase(ctx.servers.pgAdminUrl, DATABASE);
  await deletePrefix(ctx.servers.redisUrl, PREFIX);
  const crmUrl = await recreateDatabase(ctx.servers.pgAdminUrl, CRM_DATABASE);
  const db = createPrisma({ databaseUrl });
  const crm = createPrisma({ databaseUrl: crmUrl });
  try {
    const t = Date.now();
    // The ledger is computed from a copy of the CRM in the service's database, which is then emptied: the plan
    // reads the CRM from its own database only.
    await seedCrm(db, setup);
    await seedLedger(db);
    await db.$executeRawUnsafe('TRUNCATE contacts, sites');
    await seedCrm(crm, setup);
    await Promise.all([db.$executeRawUnsafe('ANALYZE'), crm.$executeRawUnsafe('ANALYZE')]);
    ctx.progress(`large: seeded ${setup.contacts} contacts on ${setup.sites} sites in a CRM database of its own and a synced ledger in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const env = { ...childEnv(ctx, databaseUrl), CRM_DATABASE_URL: crmUrl };
    for (const round of ['nothing changed', '1 % changed'] as const) {
      if (round === '1 % changed') {
        const n = await crm.$executeRaw`UPDATE contacts SET last_name = last_name || ' B', updated_at = now() WHERE (substr(id, 5)::int % 100) = 0`;
        ctx.progress(`large: changed ${n} contacts`);
      }
      ctx.progress(`large: planning a change tick (${round}) in a child process`);
      const r = await planInChild(env, ctx.runtime === 'source');
      const [first, second] = r.ticks;
      const target = round === 'nothing changed' ? `; targets < 2 s: ${first!.planMs < 2000 ? 'met' : 'MISSED'}, < 300 MB: ${r.maxRssMb < 300 ? 'met' : 'MISSED'}` : '';
      rows.push({
        scenario: `large plan (${round})`,
        mode: 'changes',
        contacts: setup.contacts,
        sites: setup.sites,
        changes: first!.planned,
        // Planning only: no worker runs, so no CHeKT call is made or needed here.
        calls: null,
        ideal: null,
        wallMs: first!.planMs,
        perMinute: null,
        limit: null,
        p50: null,
        p95: null,
        rssMb: r.maxRssMb,
        notes: `planning only, no worker; ${first!.planned} jobs enqueued; next tick ${(second!.planMs / 1000).toFixed(2)} s (${second!.planned} planned); RSS ${Math.round(r.baseRssMb)} MB before planning; worst event-loop block ${Math.round(r.maxBlockMs)} ms${target}`,
        // Nothing changed must plan nothing; 1 % changed must plan about 1 % (enqueued again by the second tick: no worker).
        ok: round === 'nothing changed' ? first!.planned === 0 && second!.planned === 0 : first!.planned > 0,
      });
      if (round === 'nothing changed') {
        rows.push({
          scenario: 'large reachability read',
          mode: 'status',
          contacts: setup.contacts,
          sites: setup.sites,
          changes: null,
          calls: null,
          ideal: null,
          wallMs: r.reachRead.ms,
          perMinute: null,
          limit: null,
          p50: null,
          p95: null,
          rssMb: r.reachRead.rssMb,
          notes: `every enabled site's contacts read and classified (npm run status, the gauge's first scrape); next scrape ${(r.reachRead.warmMs / 1000).toFixed(2)} s (rows unchanged: not classified again); ${r.reachRead.unreachable} sites unreachable`,
          // Every seeded contact has a US number (SMS-capable), so no site may be unreachable.
          ok: r.reachRead.unreachable === 0,
        });
      }
    }
  } finally {
    await Promise.all([db.$disconnect(), crm.$disconnect()]);
    await deletePrefix(ctx.servers.redisUrl, PREFIX);
  }
}

/** Sites over 50 dealers, contacts spread evenly (the built-in `sites` and `contacts` tables). */
async function seedCrm(db: PrismaClient, setup: LargeSetup): Promise<void> {
  await db.$executeRaw`
    INSERT INTO sites (id, chekt_dealer_id, chekt_site_id, name, sync_enabled)
    SELECT 'site-' || lpad(i::text, 6, '0'), (10001 + i % 50)::text, (100 + i / 50)::text, 'Site ' || i, true
      FROM generate_series(0, ${setup.sites - 1}::int) AS i`;
  await db.$executeRaw`
    INSERT INTO contacts (id, site_id, first_name, last_name, phone_number, email)
    SELECT 'crm-' || lpad(j::text, 7, '0'), 'site-' || lpad((j % ${setup.sites}::int)::text, 6, '0'), 'First' || j, 'Last' || j,
           '+1 201 555 ' || lpad((j % 10000)::text, 4, '0'), 'c' || j || '@example.com'
      FROM generate_series(0, ${setup.contacts - 1}::int) AS j`;
}

/** A ledger saying CHeKT holds every contact of the CRM copy in `db` as it is. */
async function seedLedger(db: PrismaClient): Promise<void> {
  await db.$executeRaw(Prisma.sql`
    INSERT INTO sync_ledger (chekt_dealer_id, chekt_site_id, external_contact_id, chekt_contact_id, crm_hash, last_kind, last_outcome, synced_at, updated_at)
    SELECT s.chekt_dealer_id, s.chekt_site_id, c.id, (row_number() OVER ())::text, ${Prisma.raw(fingerprintSql(1).replace('$1::text', `'${rulesKey(DEFAULT_RULES)}'`))}, 'create', 'succeeded', now(), now()
      FROM contacts c JOIN sites s ON s.id = c.site_id`);
}

function childEnv(ctx: BenchContext, databaseUrl: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: databaseUrl,
    REDIS_URL: ctx.servers.redisUrl,
    // Never called: a `changes` plan reads only PostgreSQL.
    CHEKT_API_URL: 'http://127.0.0.1:9',
    CHEKT_CLIENT_ID: 'sandbox-client',
    CHEKT_CLIENT_SECRET: 'sandbox-secret',
    QUEUE_PREFIX: PREFIX,
    LOG_LEVEL: 'error',
  };
}

function planInChild(env: Record<string, string>, source: boolean): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(source ? CHILD : CHILD_COMPILED, [], { execArgv: source ? ['--import', 'tsx'] : [], env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    child.stdout?.pipe(process.stderr);
    let result: ChildResult | undefined;
    child.on('message', (m: ChildResult) => (result = m));
    child.once('exit', (code) => (result ? resolve(result) : reject(new Error(`large plan child exited with code ${code}`))));
  });
}
