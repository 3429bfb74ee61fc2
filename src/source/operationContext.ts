import type { NormalizeRules } from '../domain/contact.js';
import type { DeleteGateState, OperationContext } from '../sync/ports/operations.js';
import { Prisma } from '../generated/prisma/client.js';
import type { PrismaClient, RunSql } from './db.js';
import { fingerprintSql, rowToContact } from './changes.js';

/**
 * The worker's reads of one operation (sync/ports/operations.ts `OperationStore.readContext` and
 * `LockedSite.readDeleteGate`, through source/operationStore.ts).
 */

/** Reads the {@link OperationContext} of one operation (`run`: source/db.ts `Database.sql`, or `viaPrisma`). */
export async function readOperationContext(
  run: RunSql,
  op: { readonly opKey: string; readonly externalContactId: string; readonly crmSiteId: string; readonly dealerId: string; readonly siteId: string },
  rules: NormalizeRules,
): Promise<OperationContext> {
  const rows = await run(Prisma.sql`
    SELECT clock_timestamp() AS read_at, c.id, c.site_id, c.first_name, c.last_name, c.phone_number, c.email,
           c.deleted_at, c.updated_at, CASE WHEN c.id IS NULL THEN NULL ELSE ${fingerprintSql(rules)} END AS fp,
           s.id AS s_id, s.sync_enabled AS s_enabled, l.chekt_contact_id AS l_contact_id,
           EXISTS (SELECT 1 FROM sync_operations o WHERE o.op_key = ${op.opKey} AND o.outcome = 'queued' AND o.kind = 'delete') AS delete_planned
      FROM (SELECT 1) AS one
      LEFT JOIN contacts c ON c.id = ${op.externalContactId}
      LEFT JOIN sites s ON s.id = ${op.crmSiteId}
      LEFT JOIN sync_ledger l
        ON l.chekt_dealer_id = ${op.dealerId} AND l.chekt_site_id = ${op.siteId} AND l.external_contact_id = ${op.externalContactId}`);
  const r = rows[0]!;
  return {
    readAt: r.read_at as Date,
    crm: r.id === null ? null : rowToContact(r),
    fingerprint: r.fp as string | null,
    site: r.s_id === null ? null : { id: r.s_id as string, syncEnabled: r.s_enabled as boolean },
    ledgerChektContactId: r.l_contact_id as string | null,
    deletePlanned: r.delete_planned as boolean,
  };
}

/** Reads the {@link DeleteGateState} of a delete. */
export async function readDeleteGate(
  db: Pick<PrismaClient, '$queryRaw'>,
  op: { readonly opKey: string; readonly runId: string; readonly externalContactId: string; readonly dealerId: string; readonly siteId: string },
): Promise<DeleteGateState> {
  const rows = await db.$queryRaw<Array<{ pending: boolean; remaining: bigint; held: boolean; create_failed: boolean }>>`
    SELECT EXISTS (
             SELECT 1 FROM sync_operations o
              WHERE o.outcome = 'queued' AND o.kind = 'create' AND o.op_key <> ${op.opKey}
                AND ((o.chekt_dealer_id = ${op.dealerId} AND o.chekt_site_id = ${op.siteId}) OR o.external_contact_id = ${op.externalContactId})
           ) AS pending,
           (SELECT count(*) FROM sync_ledger l
             WHERE l.chekt_dealer_id = ${op.dealerId} AND l.chekt_site_id = ${op.siteId}
               AND l.chekt_contact_id IS NOT NULL AND l.external_contact_id <> ${op.externalContactId}) AS remaining,
           EXISTS (SELECT 1 FROM sync_holds h WHERE h.chekt_dealer_id = ${op.dealerId} AND h.chekt_site_id = ${op.siteId}) AS held,
           EXISTS (SELECT 1 FROM sync_operations o
                    WHERE o.run_id = ${op.runId}::uuid AND o.kind = 'create' AND o.outcome = 'failed'
                      AND o.chekt_dealer_id = ${op.dealerId} AND o.chekt_site_id = ${op.siteId}) AS create_failed`;
  const r = rows[0]!;
  return { createsPending: r.pending, remaining: Number(r.remaining), held: r.held, createFailed: r.create_failed };
}
