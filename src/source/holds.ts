import type { Hold } from '../domain/safety.js';
import type { PrismaClient } from './db.js';

/**
 * Deletion holds (`sync_holds`): one row per CHeKT site whose deletes wait for an operator's approval.
 * Holds are recomputed by every plan (domain/safety.ts): a plan stores the holds it found and clears those of
 * its sites that no longer need one (approved, or the CRM lists the contacts again).
 */

/** The stored holds, keyed "dealerId/siteId". */
export async function readHolds(db: PrismaClient): Promise<Map<string, Hold>> {
  const rows = await db.syncHold.findMany();
  return new Map(rows.map((r) => {
    const site = `${r.chektDealerId}/${r.chektSiteId}`;
    return [site, { site, reason: r.reason, deletes: r.deletes, managed: r.managed }];
  }));
}

/**
 * Stores `holds` and removes the stored holds of `scope` sites ("dealerId/siteId"; null = every site) that
 * are not among them. One transaction.
 */
export async function saveHolds(
  db: PrismaClient,
  holds: readonly Hold[],
  scope: readonly string[] | null,
  runId: string | null,
  now: Date,
  /** Sites of the scope that were not planned (their CHeKT list could not be read): their holds stay. */
  keep: ReadonlySet<string> = new Set(),
): Promise<void> {
  const held = new Set(holds.map((h) => h.site));
  const split = (site: string) => {
    const i = site.indexOf('/');
    return { chektDealerId: site.slice(0, i), chektSiteId: site.slice(i + 1) };
  };
  const stale = scope === null
    ? (await db.syncHold.findMany({ select: { chektDealerId: true, chektSiteId: true } })).map((r) => `${r.chektDealerId}/${r.chektSiteId}`)
    : scope;
  const toClear = stale.filter((s) => !held.has(s) && !keep.has(s)).map(split);
  await db.$transaction([
    ...(toClear.length > 0 ? [db.syncHold.deleteMany({ where: { OR: toClear } })] : []),
    ...holds.map((h) => {
      const key = split(h.site);
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
  const i = hold.site.indexOf('/');
  const key = { chektDealerId: hold.site.slice(0, i), chektSiteId: hold.site.slice(i + 1) };
  const data = { reason: hold.reason, deletes: hold.deletes, managed: hold.managed, runId };
  await db.syncHold.upsert({ where: { chektDealerId_chektSiteId: key }, create: { ...key, ...data, heldAt: now }, update: data });
}
