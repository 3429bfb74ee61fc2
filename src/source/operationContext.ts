import type { CrmContact, NormalizeRules } from '../domain/contact.js';
import { Prisma } from '../generated/prisma/client.js';
import type { PrismaClient, RunSql } from './db.js';
import { fingerprintSql, rowToContact } from './changes.js';

/**
 * What a worker reads before acting on one operation, in one round trip: the database clock, the CRM contact
 * row and its fingerprint, the planned CRM site, and the CHeKT `contact_id` the ledger holds.
 */
export interface OperationContext {
  /** The database's clock when the row was read (settles only runs that saw no newer CRM data). */
  readonly readAt: Date;
  /** The contact row now, or null when it no longer exists (hard delete). */
  readonly crm: CrmContact | null;
  /** Fingerprint of the row now (source/changes.ts), null when it no longer exists. */
  readonly fingerprint: string | null;
  /** The planned CRM site now, or null when it no longer exists. */
  readonly site: { readonly id: string; readonly syncEnabled: boolean } | null;
  readonly ledgerChektContactId: string | null;
  /** A run planned this contact's delete (under the deletion holds) and still waits on it. */
  readonly deletePlanned: boolean;
}

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

/** What decides whether a delete may run now (sync/deleteGate.ts). */
export interface DeleteGateState {
  /** A create is queued on the same CHeKT site, or for the same contact on another site. */
  readonly createsPending: boolean;
  /** Contacts this service manages on the site besides the one to delete. */
  readonly remaining: number;
  /** The site is on hold (`sync_holds`). */
  readonly held: boolean;
  /** A create on this site failed for good in the same run. */
  readonly createFailed: boolean;
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
