import { siteKey, type SiteKey, type SiteRef } from '../domain/site.js';
import type { SettledContact } from '../domain/changes.js';
import type { LedgerEntry } from '../domain/plan.js';
import { Prisma } from '../generated/prisma/client.js';
import type { LedgerWrite } from '../sync/ports/operations.js';
import type { PrismaClient, RunSql } from './db.js';
import type { CrmSource } from './crm/database.js';
import { readSiteRows } from './crm/reads.js';

/**
 * The sync ledger (`sync_ledger`): per (dealer, site, external_contact_id), the CHeKT `contact_id` this
 * service created or adopted (CHeKT's "Best Practices": keep the contact_id; docs/CHEKT-API.md#contacts-endpoints), what it last sent, the CRM fingerprint
 * CHeKT reflects (source/changes.ts), and the last outcome with its error.
 */

/** Ledger entries of the given CHeKT sites, by site key. */
export async function readLedger(db: PrismaClient, sites: readonly SiteRef[]): Promise<Map<SiteKey, LedgerEntry[]>> {
  const out = new Map<SiteKey, LedgerEntry[]>(sites.map((s) => [siteKey(s), []]));
  if (sites.length === 0) return out;
  const rows = await db.syncLedger.findMany({
    where: { OR: sites.map((s) => ({ chektDealerId: s.dealerId, chektSiteId: s.siteId })) },
    select: { chektDealerId: true, chektSiteId: true, externalContactId: true, chektContactId: true, lastSentHash: true, lastEchoHash: true, crmHash: true },
  });
  for (const r of rows) {
    out.get(siteKey(r.chektDealerId, r.chektSiteId))?.push({
      externalContactId: r.externalContactId,
      chektContactId: r.chektContactId,
      lastSentHash: r.lastSentHash,
      lastEchoHash: r.lastEchoHash,
      crmHash: r.crmHash,
    });
  }
  return out;
}

/** One ledger write after an operation or adoption (declared by the worker's ports). */
export type { LedgerWrite } from '../sync/ports/operations.js';

/**
 * Inserts or updates one ledger row, in one statement. Written as SQL rather than Prisma's `upsert`, which
 * costs three times the CPU on the worker's hot path (docs/BENCHMARKS.md).
 */
export async function writeLedger(db: Pick<PrismaClient, '$executeRaw'>, w: LedgerWrite): Promise<void> {
  await db.$executeRaw`${ledgerWriteSql(w)}`;
}

/** The statement of {@link writeLedger}, to run inside another (source/runs.ts `finishOperation`). */
export function ledgerWriteSql(w: LedgerWrite): Prisma.Sql {
  const cols: Array<[string, Prisma.Sql]> = [];
  const set = (column: string, value: Prisma.Sql) => cols.push([column, value]);
  if (w.chektContactId !== undefined) set('chekt_contact_id', Prisma.sql`${w.chektContactId}`);
  if (w.sent !== undefined) {
    set('last_sent', Prisma.sql`${JSON.stringify(w.sent)}::jsonb`);
    set('last_sent_hash', Prisma.sql`${w.sentHash ?? null}`);
  }
  if (w.echoHash !== undefined) set('last_echo_hash', Prisma.sql`${w.echoHash}`);
  if (w.crmHash !== undefined) set('crm_hash', Prisma.sql`${w.crmHash}`);
  if (w.reachProblem !== undefined) set('reach_problem', Prisma.sql`${w.reachProblem}`);
  if (w.settled) {
    set('pending_since', Prisma.sql`NULL`);
    if (w.failedHash === undefined) {
      set('failed_hash', Prisma.sql`NULL`);
      set('failed_at', Prisma.sql`NULL`);
    }
  }
  if (w.failedHash !== undefined) {
    set('failed_hash', Prisma.sql`${w.failedHash}`);
    set('failed_at', Prisma.sql`${w.now}::timestamptz`);
  }
  set('last_kind', Prisma.sql`${w.kind}`);
  set('last_outcome', Prisma.sql`${w.outcome}`);
  set('last_error', Prisma.sql`${w.error ?? null}`);
  set('last_run_id', Prisma.sql`${w.runId}::uuid`);
  if (w.outcome === 'succeeded') set('synced_at', Prisma.sql`${w.now}::timestamptz`);
  set('updated_at', Prisma.sql`${w.now}::timestamptz`);
  const names = Prisma.raw(cols.map(([c]) => c).join(', '));
  const updates = Prisma.raw(cols.map(([c]) => `${c} = EXCLUDED.${c}`).join(', '));
  return Prisma.sql`
    INSERT INTO sync_ledger (chekt_dealer_id, chekt_site_id, external_contact_id, ${names})
    VALUES (${w.site.dealerId}, ${w.site.siteId}, ${w.externalContactId}, ${Prisma.join(cols.map(([, v]) => v))})
    ON CONFLICT (chekt_dealer_id, chekt_site_id, external_contact_id) DO UPDATE SET ${updates}`;
}

/**
 * CHeKT sites where the ledger holds contacts this service created or adopted, but which no CRM site maps to
 * any more (its `chekt_dealer_id`/`chekt_site_id` changed, or the site row was deleted). Those contacts are
 * left as they are in CHeKT, and reported so an operator can decide. At most 100 sites.
 */
export async function findUnmappedLedgerSites(crm: CrmSource, sql: RunSql): Promise<Array<{ site: SiteKey; contacts: number }>> {
  const shape = await crm.shape();
  const [siteRows, rows] = await Promise.all([
    readSiteRows(crm, crm.relations, shape, null),
    sql<{ dealer: string; site: string; n: string }>(Prisma.sql`
      SELECT l.chekt_dealer_id AS dealer, l.chekt_site_id AS site, count(*) AS n
        FROM sync_ledger l WHERE l.chekt_contact_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`),
  ]);
  // Any site row naming the CHeKT site counts as a mapping, usable or not: an unusable one is reported itself.
  const mapped = new Set(siteRows.filter((r) => r.chekt_dealer_id !== null && r.chekt_site_id !== null).map((r) => siteKey(r.chekt_dealer_id!.trim(), r.chekt_site_id!.trim())));
  return rows
    .filter((r) => !mapped.has(siteKey(r.dealer, r.site)))
    .slice(0, 100)
    .map((r) => ({ site: siteKey(r.dealer, r.site), contacts: Number(r.n) }));
}

/**
 * Records contacts settled without a CHeKT call (domain/changes.ts `SettledContact`): the ledger takes the
 * CRM fingerprint, so the next tick does not read them again. One statement.
 */
export async function settleContacts(db: PrismaClient, settled: readonly SettledContact[], runId: string | null, now: Date): Promise<void> {
  settled = uniqueBy(settled, (s) => `${s.dealerId}\n${s.siteId}\n${s.externalContactId}`);
  if (settled.length === 0) return;
  const col = <K extends keyof SettledContact>(k: K) => settled.map((s) => s[k]);
  await db.$executeRaw`
    INSERT INTO sync_ledger AS l (chekt_dealer_id, chekt_site_id, external_contact_id, crm_hash, last_outcome, last_error, last_kind, last_run_id, updated_at)
    SELECT d, s, e, h, o, r, CASE WHEN o = 'skipped' THEN 'skip' END, ${runId}::uuid, ${now}
      FROM unnest(${col('dealerId')}::text[], ${col('siteId')}::text[], ${col('externalContactId')}::text[],
                  ${col('fingerprint')}::text[], ${col('outcome')}::text[], ${col('reason')}::text[]) AS t(d, s, e, h, o, r)
    ON CONFLICT (chekt_dealer_id, chekt_site_id, external_contact_id) DO UPDATE
       SET crm_hash = EXCLUDED.crm_hash, last_outcome = EXCLUDED.last_outcome, last_error = EXCLUDED.last_error,
           last_kind = COALESCE(EXCLUDED.last_kind, l.last_kind), last_run_id = EXCLUDED.last_run_id,
           failed_hash = NULL, failed_at = NULL, pending_since = NULL,
           synced_at = CASE WHEN EXCLUDED.last_outcome = 'succeeded' THEN EXCLUDED.updated_at ELSE l.synced_at END,
           updated_at = EXCLUDED.updated_at`;
}

/** Marks contacts as having a change planned and not yet applied (`pending_since`, kept if already set). */
export async function markPending(db: PrismaClient, ops: ReadonlyArray<{ dealerId: string; siteId: string; externalContactId: string }>, now: Date): Promise<void> {
  ops = uniqueBy(ops, (o) => `${o.dealerId}\n${o.siteId}\n${o.externalContactId}`);
  if (ops.length === 0) return;
  await db.$executeRaw`
    INSERT INTO sync_ledger AS l (chekt_dealer_id, chekt_site_id, external_contact_id, pending_since, updated_at)
    SELECT d, s, e, ${now}, ${now}
      FROM unnest(${ops.map((o) => o.dealerId)}::text[], ${ops.map((o) => o.siteId)}::text[], ${ops.map((o) => o.externalContactId)}::text[]) AS t(d, s, e)
    ON CONFLICT (chekt_dealer_id, chekt_site_id, external_contact_id) DO UPDATE
       SET pending_since = COALESCE(l.pending_since, EXCLUDED.pending_since)`;
}

/** One statement may not touch a row twice (ON CONFLICT DO UPDATE): keep the last item per key. */
function uniqueBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  return [...new Map(items.map((i) => [key(i), i])).values()];
}
