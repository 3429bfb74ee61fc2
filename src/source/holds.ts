import type { Hold } from '../domain/safety.js';
import type { PrismaClient } from './db.js';
import { parseSiteKey, siteKey, type SiteKey } from '../domain/site.js';

/**
 * Deletion holds (`sync_holds`): one row per CHeKT site whose deletes wait for an operator's approval. What
 * operators see of them is read by source/readModel/holds.ts.
 * Holds are recomputed by every plan (domain/safety.ts): a plan stores the holds it found and clears those of
 * its sites that no longer need one (approved, or the CRM lists the contacts again).
 */

/** The stored holds, by site key (the planner's input). */
export async function readHolds(db: PrismaClient): Promise<Map<SiteKey, Hold>> {
  const rows = await db.syncHold.findMany();
  return new Map(
    rows.map((r) => {
      const site = siteKey(r.chektDealerId, r.chektSiteId);
      return [site, { site, reason: r.reason, deletes: r.deletes, managed: r.managed }];
    }),
  );
}

/**
 * Stores `holds` and removes the stored holds of `scope` sites (null = every site) that
 * are not among them. One transaction.
 */
export async function saveHolds(
  db: PrismaClient,
  holds: readonly Hold[],
  scope: readonly SiteKey[] | null,
  runId: string | null,
  now: Date,
  /** Sites of the scope that were not planned (their CHeKT list could not be read): their holds stay. */
  keep: ReadonlySet<SiteKey> = new Set(),
): Promise<void> {
  const held = new Set(holds.map((h) => h.site));
  const stale = scope === null ? (await db.syncHold.findMany({ select: { chektDealerId: true, chektSiteId: true } })).map((r) => siteKey(r.chektDealerId, r.chektSiteId)) : scope;
  const toClear = stale.filter((s) => !held.has(s) && !keep.has(s)).map(columnsOf);
  await db.$transaction([
    ...(toClear.length > 0 ? [db.syncHold.deleteMany({ where: { OR: toClear } })] : []),
    ...holds.map((h) => {
      const key = columnsOf(h.site);
      const data = { reason: h.reason, deletes: h.deletes, managed: h.managed, runId };
      return db.syncHold.upsert({
        where: { chektDealerId_chektSiteId: key },
        create: { ...key, ...data, heldAt: now },
        update: data,
      });
    }),
  ]);
}

/** Stores one hold found by a worker (a delete that would take its site below the minimum). */
export async function addHold(db: Pick<PrismaClient, 'syncHold'>, hold: Hold, runId: string | null, now: Date): Promise<void> {
  const key = columnsOf(hold.site);
  const data = { reason: hold.reason, deletes: hold.deletes, managed: hold.managed, runId };
  await db.syncHold.upsert({ where: { chektDealerId_chektSiteId: key }, create: { ...key, ...data, heldAt: now }, update: data });
}

/** The `sync_holds` key columns of a site. */
function columnsOf(site: SiteKey): { chektDealerId: string; chektSiteId: string } {
  const ref = parseSiteKey(site);
  return { chektDealerId: ref.dealerId, chektSiteId: ref.siteId };
}
