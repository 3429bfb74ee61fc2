import type { SiteRef } from '../chekt/types.js';
import type { LedgerEntry } from '../domain/plan.js';
import type { PrismaClient } from './db.js';

/**
 * The sync ledger (`sync_ledger`): per (dealer, site, external_contact_id), the CHeKT `contact_id` this
 * service created or adopted (seed "Best Practices": store contact_id), what it last sent, and the last
 * outcome with its error.
 */

/** Ledger entries of the given CHeKT sites, keyed by "dealerId/siteId". */
export async function readLedger(db: PrismaClient, sites: readonly SiteRef[]): Promise<Map<string, LedgerEntry[]>> {
  const out = new Map<string, LedgerEntry[]>(sites.map((s) => [`${s.dealerId}/${s.siteId}`, []]));
  if (sites.length === 0) return out;
  const rows = await db.syncLedger.findMany({
    where: { OR: sites.map((s) => ({ chektDealerId: s.dealerId, chektSiteId: s.siteId })) },
    select: { chektDealerId: true, chektSiteId: true, externalContactId: true, chektContactId: true, lastSentHash: true, lastEchoHash: true },
  });
  for (const r of rows) {
    out.get(`${r.chektDealerId}/${r.chektSiteId}`)?.push({
      externalContactId: r.externalContactId,
      chektContactId: r.chektContactId,
      lastSentHash: r.lastSentHash,
      lastEchoHash: r.lastEchoHash,
    });
  }
  return out;
}

/** The CHeKT `contact_id` recorded for one contact on one site, or null. */
export async function readLedgerContactId(db: PrismaClient, site: SiteRef, externalContactId: string): Promise<string | null> {
  const row = await db.syncLedger.findUnique({
    where: { chektDealerId_chektSiteId_externalContactId: { chektDealerId: site.dealerId, chektSiteId: site.siteId, externalContactId } },
    select: { chektContactId: true },
  });
  return row?.chektContactId ?? null;
}

/** One ledger write after an operation or adoption. */
export interface LedgerWrite {
  readonly site: SiteRef;
  readonly externalContactId: string;
  /** New CHeKT `contact_id`; null after a delete; undefined keeps the stored one. */
  readonly chektContactId?: string | null;
  readonly kind: 'create' | 'update' | 'delete' | 'adopt' | 'skip';
  readonly outcome: 'succeeded' | 'failed' | 'skipped';
  readonly error?: string | null;
  /** The body sent (names, phone, email as sent) and its content hash; kept only on success. */
  readonly sent?: unknown;
  readonly sentHash?: string | null;
  /** {@link echoHash} of CHeKT's answer to the write (undefined keeps the stored one; null forgets it). */
  readonly echoHash?: string | null;
  readonly runId: string | null;
  readonly now: Date;
}

/** Inserts or updates one ledger row. */
export async function writeLedger(db: PrismaClient, w: LedgerWrite): Promise<void> {
  const key = { chektDealerId: w.site.dealerId, chektSiteId: w.site.siteId, externalContactId: w.externalContactId };
  const data = {
    ...(w.chektContactId !== undefined ? { chektContactId: w.chektContactId } : {}),
    ...(w.sent !== undefined ? { lastSent: w.sent as object, lastSentHash: w.sentHash ?? null } : {}),
    ...(w.echoHash !== undefined ? { lastEchoHash: w.echoHash } : {}),
    lastKind: w.kind,
    lastOutcome: w.outcome,
    lastError: w.error ?? null,
    lastRunId: w.runId,
    ...(w.outcome === 'succeeded' ? { syncedAt: w.now } : {}),
    updatedAt: w.now,
  };
  await db.syncLedger.upsert({ where: { chektDealerId_chektSiteId_externalContactId: key }, create: { ...key, ...data }, update: data });
}

/**
 * CHeKT sites where the ledger holds contacts this service created or adopted, but which no CRM site maps to
 * any more (its `chekt_dealer_id`/`chekt_site_id` changed, or the site row was deleted). Those contacts are
 * left as they are in CHeKT, and reported so an operator can decide. At most 100 sites.
 */
export async function findUnmappedLedgerSites(db: PrismaClient): Promise<Array<{ site: string; contacts: number }>> {
  const rows = await db.$queryRaw<Array<{ dealer: string; site: string; n: bigint }>>`
    SELECT l.chekt_dealer_id AS dealer, l.chekt_site_id AS site, count(*) AS n
      FROM sync_ledger l
     WHERE l.chekt_contact_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM sites s WHERE s.chekt_dealer_id = l.chekt_dealer_id AND s.chekt_site_id = l.chekt_site_id)
     GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 100`;
  return rows.map((r) => ({ site: `${r.dealer}/${r.site}`, contacts: Number(r.n) }));
}
