import type { NormalizeRules } from '../domain/contact.js';
import type { DeleteGateState, OperationContext } from '../sync/ports/operations.js';
import { Prisma } from '../generated/prisma/client.js';
import { checkSites, toCrmContact } from '../domain/crmRows.js';
import type { PrismaClient, RunSql } from './db.js';
import type { CrmSource } from './crm/database.js';
import { readOperationRows, type OperationRows } from './crm/reads.js';

/**
 * The worker's reads of one operation (sync/ports/operations.ts `OperationStore.readContext` and
 * `LockedSite.readDeleteGate`, through source/operationStore.ts).
 */

/** The fields of an operation its context is read by. */
export interface OperationKey {
  readonly opKey: string;
  readonly externalContactId: string;
  readonly crmSiteId: string;
  readonly dealerId: string;
  readonly siteId: string;
}

/**
 * Reads the {@link OperationContext} of each of `ops`, in their order, in two statements run in parallel
 * whatever their number: the CRM's rows of each (`site_id`, `id`) key and its site, from the CRM connection, and
 * the ledger's and the queue's state from the service's database (`run`: source/db.ts `Database.sql`, or
 * `viaPrisma`). The worker gathers the reads of the operations that start in one turn of the event loop
 * (source/operationStore.ts). `readAt` is the CRM's clock when its statement started, on the clock the planner's
 * `crm_read_at` is taken from. A key or a site the CRM holds twice, or a site that is not usable
 * (domain/crmRows.ts), is a `problem`: the operation is skipped, nothing is deleted for it.
 * @throws source/crm/database.ts `CrmContractError` or the node-postgres error: the jobs fail and are retried.
 */
export async function readOperationContexts(crm: CrmSource, run: RunSql, ops: readonly OperationKey[], rules: NormalizeRules): Promise<OperationContext[]> {
  const shape = await crm.shape();
  const [rows, states] = await Promise.all([
    readOperationRows(crm, crm.relations, shape, ops, rules),
    run(Prisma.sql`
      SELECT l.chekt_contact_id AS l_contact_id,
             -- Not EXISTS: correlated to unnest's rows, PostgreSQL 15 planned that as a scan of every queued
             -- operation per key; the first row of the (op_key, outcome) index answers this form.
             (SELECT true FROM sync_operations o WHERE o.op_key = k.op_key AND o.outcome = 'queued' AND o.kind = 'delete' LIMIT 1) IS NOT NULL AS delete_planned
        FROM unnest(${ops.map((o) => o.opKey)}::text[], ${ops.map((o) => o.dealerId)}::text[], ${ops.map((o) => o.siteId)}::text[],
                    ${ops.map((o) => o.externalContactId)}::text[]) WITH ORDINALITY AS k(op_key, dealer_id, site_id, external_contact_id, i)
        LEFT JOIN sync_ledger l
          ON l.chekt_dealer_id = k.dealer_id AND l.chekt_site_id = k.site_id AND l.external_contact_id = k.external_contact_id
       ORDER BY k.i`),
  ]);
  return ops.map((op, i) => contextOf(op, rows[i]!, states[i]!, shape.sites.has('sync_enabled')));
}

/** One operation's context from its CRM rows and its state row. */
function contextOf(op: OperationKey, rows: OperationRows, state: Record<string, unknown>, hasSyncEnabled: boolean): OperationContext {
  const sites = checkSites(rows.sites, hasSyncEnabled);
  const site = sites.byId.get(op.crmSiteId);
  const contact = rows.contacts.length === 1 ? rows.contacts[0]! : null;
  const problem =
    rows.contacts.length > 1
      ? 'two CRM contact rows have this (site_id, id): neither is synced, and the contact is not deleted'
      : !site && rows.sites.length > 0
        ? (sites.problems[0]?.reason ?? 'the CRM site is not usable')
        : null;
  return {
    readAt: rows.readAt,
    crm: contact === null ? null : toCrmContact(contact),
    fingerprint: contact?.fp ?? null,
    site: site ? { id: site.crmSiteId, syncEnabled: site.syncEnabled } : null,
    ledgerChektContactId: state.l_contact_id as string | null,
    deletePlanned: state.delete_planned as boolean,
    problem,
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
