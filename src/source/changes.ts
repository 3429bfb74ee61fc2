import { Prisma } from '../generated/prisma/client.js';
import type { ChangedRow, RemovedRow } from '../domain/changes.js';
import type { CrmContact, NormalizeRules } from '../domain/contact.js';
import type { PlanSite } from '../domain/plan.js';
import { siteKey, type SiteKey } from '../domain/site.js';
import type { ChangeScope, SiteCounts } from '../sync/ports/planner.js';
import { DELETE_FAILED } from '../sync/ports/operations.js';
import type { PrismaClient } from './db.js';

/**
 * Local change detection (docs/ARCHITECTURE.md#layout-and-flow, "Change tick"): the CRM against the service's own ledger, in SQL,
 * with no CHeKT call. Each CRM row has a fingerprint, md5 of the row's synced columns and of the
 * normalisation rules; the ledger keeps the fingerprint CHeKT was last made equal to (`sync_ledger.crm_hash`).
 * A tick reads only the rows whose fingerprint differs, so a tick with no CRM change reads nothing.
 *
 * Why our own SQL and not a CDC library: the diff against the ledger is the core of this service, and it has
 * to run inside PostgreSQL to stay fast (under 2 s for 100,000 contacts) and small in memory.
 */

/**
 * The rules part of the fingerprint: changing `PHONE_DEFAULT_REGION`, `PHONE_FORMAT` or
 * `CONTACT_MAX_NAME_LENGTH` changes what CHeKT should hold, so every contact is planned again once. The version
 * changes with the rules themselves (v2: phone extensions are no longer sent).
 */
export function rulesKey(rules: NormalizeRules): string {
  return `|v2|${rules.defaultRegion}|${rules.phoneFormat}|${rules.maxNameLength}|${rules.maxEmailLength}`;
}

/**
 * SQL of a contact row's fingerprint (`c` is the `contacts` alias). `ROW(...)::text` keeps NULL and ''
 * apart (`(a,)` against `(a,"")`), so clearing a field is a change.
 */
export function fingerprintSql(rules: NormalizeRules): Prisma.Sql {
  return Prisma.sql`md5(ROW(c.first_name, c.last_name, c.phone_number, c.email)::text || ${rulesKey(rules)})`;
}

/** A raw `contacts` row (snake_case columns from `$queryRaw`) as the domain's CrmContact. */
export function rowToContact(r: Record<string, unknown>): CrmContact {
  return {
    id: r.id as string,
    crmSiteId: r.site_id as string,
    firstName: r.first_name as string,
    lastName: r.last_name as string,
    phoneNumber: r.phone_number as string | null,
    email: r.email as string | null,
    deletedAt: r.deleted_at as Date | null,
    updatedAt: r.updated_at as Date,
  };
}

/** Marker stored in `failed_hash` when a delete failed for good (declared by the worker's ports). */
export { DELETE_FAILED };

/** SQL: the ledger row `l` failed for good on `failedHash` less than the cool-down ago. */
const coolingDown = (failedHash: Prisma.Sql, scope: ChangeScope) =>
  Prisma.sql`(l.failed_hash IS NOT DISTINCT FROM ${failedHash} AND l.failed_at > clock_timestamp() - make_interval(secs => ${scope.failedCooldownSeconds}))`;

const siteFilter = (ids: readonly string[] | null, column: Prisma.Sql) => (ids === null ? Prisma.empty : Prisma.sql`AND ${column} = ANY(${[...ids]})`);

/** Live contacts of enabled sites whose fingerprint differs from the ledger's (see the module comment). */
export async function readChangedContacts(db: PrismaClient, scope: ChangeScope): Promise<ChangedRow[]> {
  const fp = fingerprintSql(scope.rules);
  const rows = await db.$queryRaw<Array<Record<string, unknown>>>`
    SELECT c.id, c.site_id, c.first_name, c.last_name, c.phone_number, c.email, c.deleted_at, c.updated_at,
           s.chekt_dealer_id, s.chekt_site_id, ${fp} AS fp, l.chekt_contact_id, l.last_sent_hash,
           l.pending_since IS NOT NULL AS pending
      FROM contacts c
      JOIN sites s ON s.id = c.site_id AND s.sync_enabled
      LEFT JOIN sync_ledger l
        ON l.chekt_dealer_id = s.chekt_dealer_id AND l.chekt_site_id = s.chekt_site_id AND l.external_contact_id = c.id
     WHERE c.deleted_at IS NULL ${siteFilter(scope.crmSiteIds, Prisma.sql`c.site_id`)}
       -- A row with a change still pending is read again even when it equals the ledger: an edit reverted while its
       -- job runs must reach CHeKT (the plan joins the job, which then applies again: latest wins).
       AND (l.crm_hash IS DISTINCT FROM ${fp} OR l.pending_since IS NOT NULL)
       AND NOT ${coolingDown(fp, scope)}
     ORDER BY s.chekt_dealer_id, s.chekt_site_id, c.id`;
  return rows.map((r) => ({
    contact: rowToContact(r),
    crmSiteId: r.site_id as string,
    dealerId: r.chekt_dealer_id as string,
    siteId: r.chekt_site_id as string,
    fingerprint: r.fp as string,
    chektContactId: r.chekt_contact_id as string | null,
    lastSentHash: r.last_sent_hash as string | null,
    pending: r.pending as boolean,
  }));
}

/**
 * Contacts the ledger holds in CHeKT on an enabled CRM site that are no longer live CRM contacts of that
 * site (soft or hard deleted, or moved to another site). Sites that are disabled or no longer mapped are
 * left alone (reported by `findUnmappedLedgerSites`).
 */
export async function readRemovedContacts(db: PrismaClient, scope: ChangeScope): Promise<RemovedRow[]> {
  const rows = await db.$queryRaw<Array<Record<string, string>>>`
    SELECT s.id AS crm_site_id, l.chekt_dealer_id, l.chekt_site_id, l.external_contact_id, l.chekt_contact_id
      FROM sync_ledger l
      JOIN sites s ON s.chekt_dealer_id = l.chekt_dealer_id AND s.chekt_site_id = l.chekt_site_id AND s.sync_enabled
     WHERE l.chekt_contact_id IS NOT NULL ${siteFilter(scope.crmSiteIds, Prisma.sql`s.id`)}
       AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = l.external_contact_id AND c.site_id = s.id AND c.deleted_at IS NULL)
       AND NOT ${coolingDown(Prisma.sql`${DELETE_FAILED}`, scope)}
     ORDER BY l.chekt_dealer_id, l.chekt_site_id, l.external_contact_id`;
  return rows.map((r) => ({
    crmSiteId: r.crm_site_id!,
    dealerId: r.chekt_dealer_id!,
    siteId: r.chekt_site_id!,
    externalContactId: r.external_contact_id!,
    chektContactId: r.chekt_contact_id!,
  }));
}

/**
 * Contacts this service manages in CHeKT (ledger rows with a `contact_id`) on the given CRM sites, or on every
 * enabled site when `crmSiteIds` is null.
 */
export async function countManaged(db: PrismaClient, crmSiteIds: readonly string[] | null): Promise<number> {
  const rows = await db.$queryRaw<Array<{ n: bigint }>>`
    SELECT count(*) AS n FROM sync_ledger l
      JOIN sites s ON s.chekt_dealer_id = l.chekt_dealer_id AND s.chekt_site_id = l.chekt_site_id AND s.sync_enabled
     WHERE l.chekt_contact_id IS NOT NULL ${siteFilter(crmSiteIds, Prisma.sql`s.id`)}`;
  return Number(rows[0]?.n ?? 0);
}

/**
 * {@link SiteCounts} of the given CRM sites (for deletion holds), keyed "dealerId/siteId". `windowSeconds` is
 * config `DELETE_HOLD_WINDOW_SECONDS`: deletes made one by one (a CRM job removing rows one transaction at a
 * time, each planned by its own notification) still add up against the share rule.
 */
export async function readSiteCounts(db: PrismaClient, crmSiteIds: readonly string[], windowSeconds = 0): Promise<Map<SiteKey, SiteCounts>> {
  if (crmSiteIds.length === 0) return new Map();
  const rows = await db.$queryRaw<Array<{ dealer: string; site: string; live: bigint; managed: bigint; recent: bigint }>>`
    SELECT s.chekt_dealer_id AS dealer, s.chekt_site_id AS site,
           (SELECT count(*) FROM contacts c WHERE c.site_id = s.id AND c.deleted_at IS NULL) AS live,
           (SELECT count(*) FROM sync_ledger l
             WHERE l.chekt_dealer_id = s.chekt_dealer_id AND l.chekt_site_id = s.chekt_site_id AND l.chekt_contact_id IS NOT NULL) AS managed,
           (SELECT count(*) FROM sync_ledger l LEFT JOIN sync_runs r ON r.id = l.last_run_id
             WHERE l.chekt_dealer_id = s.chekt_dealer_id AND l.chekt_site_id = s.chekt_site_id AND l.chekt_contact_id IS NULL
               AND l.last_kind = 'delete' AND l.last_outcome = 'succeeded' AND NOT COALESCE(r.approve_deletes, false)
               AND l.synced_at > clock_timestamp() - make_interval(secs => ${windowSeconds})) AS recent
      FROM sites s WHERE s.id = ANY(${[...crmSiteIds]})`;
  return new Map(rows.map((r) => [siteKey(r.dealer, r.site), { live: Number(r.live), managed: Number(r.managed), recentDeletes: Number(r.recent) }]));
}

/** Fingerprints of the live contacts of the given CRM sites, keyed by contact id. */
export async function readFingerprints(db: PrismaClient, crmSiteIds: readonly string[], rules: NormalizeRules): Promise<Map<string, string>> {
  if (crmSiteIds.length === 0) return new Map();
  const rows = await db.$queryRaw<Array<{ id: string; fp: string }>>`
    SELECT c.id, ${fingerprintSql(rules)} AS fp FROM contacts c WHERE c.site_id = ANY(${[...crmSiteIds]}) AND c.deleted_at IS NULL`;
  return new Map(rows.map((r) => [r.id, r.fp]));
}

/**
 * Of the given CRM sites, those whose CHeKT site has no ledger row at all: never synced by this service, so
 * CHeKT may already hold contacts for them (a first sync, a site new to the CRM).
 */
export async function readUnseenSites(db: PrismaClient, crmSiteIds: readonly string[]): Promise<PlanSite[]> {
  if (crmSiteIds.length === 0) return [];
  const rows = await db.$queryRaw<Array<{ id: string; dealer: string; site: string }>>`
    SELECT s.id, s.chekt_dealer_id AS dealer, s.chekt_site_id AS site FROM sites s
     WHERE s.id = ANY(${[...crmSiteIds]})
       AND NOT EXISTS (SELECT 1 FROM sync_ledger l WHERE l.chekt_dealer_id = s.chekt_dealer_id AND l.chekt_site_id = s.chekt_site_id)`;
  return rows.map((r) => ({ crmSiteId: r.id, dealerId: r.dealer, siteId: r.site }));
}
