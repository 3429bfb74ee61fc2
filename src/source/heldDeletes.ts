import type { PrismaClient } from './db.js';

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
export async function listHeldDeletes(db: PrismaClient, ref: { dealerId: string; siteId: string }): Promise<HeldDelete[]> {
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
