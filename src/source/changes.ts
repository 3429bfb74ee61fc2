import { Prisma } from '../generated/prisma/client.js';
import type { ChangedRow } from '../domain/changes.js';
import { contactKey, toCrmContact } from '../domain/crmRows.js';
import type { PlanSite } from '../domain/plan.js';
import { siteKey, type SiteKey, type SiteRef } from '../domain/site.js';
import { SourceDiffer, type LedgerDiffRow } from '../domain/sourceDiff.js';
import type { ChangeScope, ChangeSet, SiteCounts } from '../sync/ports/planner.js';
import { DELETE_FAILED } from '../sync/ports/operations.js';
import { loadSites, usableSites } from './crm.js';
import type { CrmSource } from './crm/database.js';
import { countLiveContacts, readContactRows, streamContactKeys } from './crm/reads.js';
import { siteRefsTable, type RunSql } from './db.js';

/**
 * Local change detection (docs/ARCHITECTURE.md#layout-and-flow, "Change tick"): the CRM against the service's
 * own ledger, with no CHeKT call. Each CRM row has a fingerprint (md5 of its synced columns and of the
 * normalisation rules, computed by the CRM's PostgreSQL: source/crm/sql.ts); the ledger keeps the fingerprint
 * CHeKT was last made equal to (`sync_ledger.crm_hash`).
 *
 * One code path whether the CRM is in the service's database or on another server (docs/CRM.md): one
 * `REPEATABLE READ` snapshot of the CRM reads the sites and every live contact's key and fingerprint through a
 * cursor, the ledger's rows are read meanwhile from `DATABASE_URL`, the pure diff (domain/sourceDiff.ts) picks the
 * changed and removed contacts, and the changed rows alone are then read in full from the same snapshot.
 *
 * Why our own code and not a CDC library: the diff against the ledger is the core of this service, and a CDC
 * tool needs replication rights a read-only CRM role does not have (docs/CRM.md#following-changes).
 */

/** Marker stored in `failed_hash` when a delete failed for good (declared by the worker's ports). */
export { DELETE_FAILED };

/** Ledger rows read per page by {@link readLedgerForDiff}. */
export const LEDGER_PAGE_ROWS = 10_000;

/**
 * The ledger's rows for the diff: every row (`sites` null) or those of the given CHeKT sites, in pages of
 * {@link LEDGER_PAGE_ROWS} by primary key (keyset paging: each page is an index range), handed to `onRows` page by
 * page so no more than one page of raw rows is held. `coolingHash` is `failed_hash` while the failure is younger
 * than `cooldownSeconds` (database clock).
 */
export async function readLedgerForDiff(sql: RunSql, sites: readonly SiteRef[] | null, cooldownSeconds: number, onRows: (rows: LedgerDiffRow[]) => void): Promise<void> {
  if (sites !== null && sites.length === 0) return;
  const only = sites === null ? Prisma.empty : Prisma.sql`JOIN ${siteRefsTable(sites)} ON l.chekt_dealer_id = t.d AND l.chekt_site_id = t.s`;
  let after: [string, string, string] | null = null;
  for (;;) {
    const from: Prisma.Sql = after === null ? Prisma.sql`true` : Prisma.sql`(l.chekt_dealer_id, l.chekt_site_id, l.external_contact_id) > (${after[0]}, ${after[1]}, ${after[2]})`;
    const rows = await sql<LedgerDiffRow>(Prisma.sql`
      SELECT l.chekt_dealer_id AS "dealerId", l.chekt_site_id AS "siteId", l.external_contact_id AS "externalContactId",
             l.crm_hash AS "crmHash", l.chekt_contact_id AS "chektContactId", l.pending_since IS NOT NULL AS pending,
             CASE WHEN l.failed_at > clock_timestamp() - make_interval(secs => ${cooldownSeconds}) THEN l.failed_hash END AS "coolingHash"
        FROM sync_ledger l ${only}
       WHERE ${from}
       ORDER BY l.chekt_dealer_id, l.chekt_site_id, l.external_contact_id
       LIMIT ${LEDGER_PAGE_ROWS}`);
    onRows(rows);
    if (rows.length < LEDGER_PAGE_ROWS) return;
    const last = rows[rows.length - 1]!;
    after = [last.dealerId, last.siteId, last.externalContactId];
  }
}

/** `last_sent_hash` of these ledger contacts, by site key and `external_contact_id` (the changed ones only). */
async function readLastSentHashes(sql: RunSql, keys: ReadonlyArray<{ dealerId: string; siteId: string; externalContactId: string }>): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const rows = await sql<{ d: string; s: string; e: string; h: string }>(Prisma.sql`
    SELECT l.chekt_dealer_id AS d, l.chekt_site_id AS s, l.external_contact_id AS e, l.last_sent_hash AS h
      FROM sync_ledger l
      JOIN unnest(${keys.map((k) => k.dealerId)}::text[], ${keys.map((k) => k.siteId)}::text[], ${keys.map((k) => k.externalContactId)}::text[]) AS t(d, s, e)
        ON l.chekt_dealer_id = t.d AND l.chekt_site_id = t.s AND l.external_contact_id = t.e
     WHERE l.last_sent_hash IS NOT NULL`);
  return new Map(rows.map((r) => [`${siteKey(r.d, r.s)}\u0000${r.e}`, r.h]));
}

/**
 * The change tick's read (see the module comment): changed and removed contacts of the enabled sites in scope,
 * and the CRM rows and sites left out, with the reason.
 * @throws the CRM's or the ledger's error, or source/crm/database.ts `CrmContractError`: nothing is planned.
 */
export async function readChanges(crm: CrmSource, sql: RunSql, scope: ChangeScope): Promise<ChangeSet> {
  return crm.snapshot(async (snap) => {
    const sites = await loadSites(crm, snap, snap.shape, scope.crmSiteIds);
    const differ = new SourceDiffer(sites, scope.crmSiteIds, DELETE_FAILED);
    const planned = differ.plannedSites();
    await readLedgerForDiff(sql, scope.crmSiteIds === null ? null : planned, scope.failedCooldownSeconds, (rows) => differ.addLedger(rows));
    await streamContactKeys(snap, crm.relations, snap.shape, scope.crmSiteIds === null ? null : planned.map((s) => s.crmSiteId), scope.rules, (rows) => differ.addKeys(rows));
    const diff = differ.finish();
    const keys = diff.changed.map((c) => ({ crmSiteId: c.site.crmSiteId, id: c.id }));
    const [full, sent] = await Promise.all([
      readContactRows(snap, crm.relations, snap.shape, keys, scope.rules),
      readLastSentHashes(
        sql,
        diff.changed.filter((c) => c.ledger?.chektContactId).map((c) => ({ dealerId: c.site.dealerId, siteId: c.site.siteId, externalContactId: c.id })),
      ),
    ]);
    const byKey = new Map(full.map((r) => [contactKey(r.site_id, r.id), r]));
    const changed: ChangedRow[] = [];
    for (const c of diff.changed) {
      const row = byKey.get(contactKey(c.site.crmSiteId, c.id));
      if (!row) continue; // cannot happen in one snapshot; never plan from a row not read
      changed.push({
        contact: toCrmContact(row),
        crmSiteId: c.site.crmSiteId,
        dealerId: c.site.dealerId,
        siteId: c.site.siteId,
        fingerprint: row.fp,
        chektContactId: c.ledger?.chektContactId ?? null,
        lastSentHash: sent.get(`${siteKey(c.site)}\u0000${c.id}`) ?? null,
        pending: c.ledger?.pending ?? false,
      });
    }
    const inScope = scope.crmSiteIds === null ? null : new Set(scope.crmSiteIds);
    const problems = [...sites.problems, ...diff.problems].filter((p) => inScope === null || (p.crmSiteId !== null && inScope.has(p.crmSiteId)));
    return { changed, removed: diff.removed, problems };
  });
}

/**
 * Contacts this service manages in CHeKT (ledger rows with a `contact_id`) on the given CRM sites, or on every
 * enabled site when `crmSiteIds` is null.
 */
export async function countManaged(crm: CrmSource, sql: RunSql, crmSiteIds: readonly string[] | null): Promise<number> {
  const sites = await usableSites(crm, crmSiteIds, true);
  if (sites.length === 0) return 0;
  const rows = await sql<{ n: string }>(Prisma.sql`
    SELECT count(*) AS n FROM sync_ledger l JOIN ${siteRefsTable(sites)} ON l.chekt_dealer_id = t.d AND l.chekt_site_id = t.s
     WHERE l.chekt_contact_id IS NOT NULL`);
  return Number(rows[0]?.n ?? 0);
}

/**
 * {@link SiteCounts} of the given CRM sites (for deletion holds), keyed "dealerId/siteId". `windowSeconds` is
 * config `DELETE_HOLD_WINDOW_SECONDS`: deletes made one by one (a CRM job removing rows one transaction at a
 * time, each planned by its own notification) still add up against the share rule.
 */
export async function readSiteCounts(crm: CrmSource, sql: RunSql, crmSiteIds: readonly string[], windowSeconds = 0): Promise<Map<SiteKey, SiteCounts>> {
  const sites = await usableSites(crm, crmSiteIds);
  if (sites.length === 0) return new Map();
  const [live, rows] = await Promise.all([
    countLiveContacts(
      crm,
      crm.relations,
      await crm.shape(),
      sites.map((s) => s.crmSiteId),
    ),
    sql<{ d: string; s: string; managed: string; recent: string }>(Prisma.sql`
      SELECT t.d, t.s,
             (SELECT count(*) FROM sync_ledger l
               WHERE l.chekt_dealer_id = t.d AND l.chekt_site_id = t.s AND l.chekt_contact_id IS NOT NULL) AS managed,
             (SELECT count(*) FROM sync_ledger l LEFT JOIN sync_runs r ON r.id = l.last_run_id
               WHERE l.chekt_dealer_id = t.d AND l.chekt_site_id = t.s AND l.chekt_contact_id IS NULL
                 AND l.last_kind = 'delete' AND l.last_outcome = 'succeeded' AND NOT COALESCE(r.approve_deletes, false)
                 AND l.synced_at > clock_timestamp() - make_interval(secs => ${windowSeconds})) AS recent
        FROM ${siteRefsTable(sites)}`),
  ]);
  const state = new Map(rows.map((r) => [siteKey(r.d, r.s), r]));
  return new Map(
    sites.map((s) => {
      const r = state.get(siteKey(s));
      return [siteKey(s), { live: live.get(s.crmSiteId) ?? 0, managed: Number(r?.managed ?? 0), recentDeletes: Number(r?.recent ?? 0) }];
    }),
  );
}

/**
 * Of the given CRM sites, those whose CHeKT site has no ledger row at all: never synced by this service, so
 * CHeKT may already hold contacts for them (a first sync, a site new to the CRM).
 */
export async function readUnseenSites(crm: CrmSource, sql: RunSql, crmSiteIds: readonly string[]): Promise<PlanSite[]> {
  if (crmSiteIds.length === 0) return [];
  const sites = await usableSites(crm, crmSiteIds);
  if (sites.length === 0) return [];
  const seen = await sql<{ d: string; s: string }>(Prisma.sql`
    SELECT t.d, t.s FROM ${siteRefsTable(sites)} WHERE EXISTS (SELECT 1 FROM sync_ledger l WHERE l.chekt_dealer_id = t.d AND l.chekt_site_id = t.s)`);
  const known = new Set(seen.map((r) => siteKey(r.d, r.s)));
  return sites.filter((s) => !known.has(siteKey(s))).map((s) => ({ crmSiteId: s.crmSiteId, dealerId: s.dealerId, siteId: s.siteId }));
}
