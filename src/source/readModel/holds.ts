import type { Hold } from '../../domain/safety.js';
import { siteKey, type SiteRef } from '../../domain/site.js';
import type { PrismaClient } from '../db.js';

/**
 * Deletion holds as operators see them (`npm run status`, `GET /api/holds`, `GET /api/sites/...`, the console,
 * an approval's audit row): the stored holds (`sync_holds`) and the deletes each keeps from running. The
 * planner's own read and the writes are in source/holds.ts.
 */

/** A stored hold: a {@link Hold} with when it was placed and by which run. */
export interface HoldRecord extends Hold {
  /** ISO 8601: when the site was first held. */
  readonly heldAt: string;
  /** The run that last held it; null when a worker's delete gate held it (sync/deleteGate.ts). */
  readonly runId: string | null;
}

/** The stored holds (of one site when `site` is given), oldest first: what `status`, the API and the console show. */
export async function listHolds(db: PrismaClient, site?: SiteRef): Promise<HoldRecord[]> {
  const rows = await db.syncHold.findMany({
    ...(site ? { where: { chektDealerId: site.dealerId, chektSiteId: site.siteId } } : {}),
    orderBy: [{ heldAt: 'asc' }, { chektDealerId: 'asc' }, { chektSiteId: 'asc' }],
  });
  return rows.map((r) => ({ site: siteKey(r.chektDealerId, r.chektSiteId), reason: r.reason, deletes: r.deletes, managed: r.managed, heldAt: r.heldAt.toISOString(), runId: r.runId }));
}

/** The hold of one site, or null when its deletes are not held. */
export async function readHold(db: PrismaClient, site: SiteRef): Promise<HoldRecord | null> {
  return (await listHolds(db, site))[0] ?? null;
}

/** One delete a site's hold keeps from running: what an approval makes happen. Ids only. */
export interface HeldDelete {
  readonly externalContactId: string;
  /** The CHeKT `contact_id` the delete would remove, when known. */
  readonly chektContactId: string | null;
  /** The plan's reason, e.g. `removed_from_crm`. */
  readonly reason: string | null;
}

/**
 * The deletes held on `dealerId/siteId`: the held delete operations of the newest run that held deletes on the
 * site (every plan of a held site records its deletes as `held`, so the newest run shows what an approval
 * covers). Ordered by `external_contact_id`; empty when none is recorded.
 */
export async function listHeldDeletes(db: PrismaClient, ref: SiteRef): Promise<HeldDelete[]> {
  const rows = await db.$queryRaw<Array<{ ext: string; chekt: string | null; reason: string | null }>>`
    WITH latest AS (
      SELECT run_id FROM sync_operations
       WHERE chekt_dealer_id = ${ref.dealerId} AND chekt_site_id = ${ref.siteId} AND outcome = 'held' AND kind = 'delete'
       ORDER BY created_at DESC LIMIT 1)
    SELECT o.external_contact_id AS ext, o.chekt_contact_id AS chekt, o.reason
      FROM sync_operations o JOIN latest l ON l.run_id = o.run_id
     WHERE o.chekt_dealer_id = ${ref.dealerId} AND o.chekt_site_id = ${ref.siteId} AND o.outcome = 'held' AND o.kind = 'delete'
     ORDER BY 1`;
  return rows.map((r) => ({ externalContactId: r.ext, chektContactId: r.chekt, reason: r.reason }));
}
