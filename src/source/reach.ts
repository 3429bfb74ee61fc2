import type { CrmContact, NormalizeRules } from '../domain/contact.js';
import { prepareContact } from '../domain/contact.js';
import { classifyPhone, contactReach, isSmsCapable, siteReach, type CountedContact, type SiteReachRow } from '../domain/reach.js';
import { Prisma } from '../generated/prisma/client.js';
import { checkContactKeys, contactKey, sitesIn, toCrmContact } from '../domain/crmRows.js';
import { loadSites, usableSites } from './crm.js';
import type { CrmSource } from './crm/database.js';
import { readLiveContactRows } from './crm/reads.js';
import { siteRefsTable, type PrismaClient, type RunSql } from './db.js';
import { siteKey, type SiteRef } from '../domain/site.js';

/**
 * Reachability reads (docs/REACHABILITY.md): how many SMS-capable contacts each CRM site has, or will have once
 * the plan is applied. Computed when asked, from the CRM (the truth) and the ledger's echo checks
 * (`sync_ledger.reach_problem`), so `npm run status` needs neither Redis nor a running service. Phones are
 * classified in JavaScript (libphonenumber-js): about 20 µs a contact with its normalisation (docs/REACHABILITY.md); long reads yield to the
 * event loop every {@link YIELD_EVERY} contacts so a worker in the same process keeps its job locks.
 */

/** Options of {@link readSiteReach}. */
export interface ReachReadOptions {
  /** "dealerId/siteId" and `external_contact_id` of contacts about to be written: their next echo check decides. */
  readonly rewritten?: (site: string, externalContactId: string) => boolean;
  /**
   * Classified contacts by their row's values, kept between reads by one caller (the gauge): a contact is
   * classified again only when its row changes. Emptied past {@link MAX_CACHED} entries. Same `rules` per cache.
   */
  readonly cache?: Map<string, CountedContact>;
}

/** Largest {@link ReachReadOptions.cache}, in contacts (about 300 bytes each). */
const MAX_CACHED = 500_000;

/** Contacts classified between two yields to the event loop. */
const YIELD_EVERY = 2000;

/** The connections a reachability read needs: the CRM's, and the service's database (source/db.ts `Database.sql`). */
export interface ReachConnections {
  readonly crm: CrmSource;
  readonly sql: RunSql;
}

/**
 * Reachability of CRM sites with `sync_enabled`: every one (`crmSiteIds` null) or the given ones. An enabled
 * site without a live contact is listed too (0 contacts: unreachable). Ordered by dealer and site. The CRM's
 * sites and contacts are read in one snapshot; the ledger's echo checks of those CHeKT sites next.
 * @throws the node-postgres error when a database cannot be read, or `CrmContractError`.
 */
export async function readSiteReach(conn: ReachConnections, rules: NormalizeRules, crmSiteIds: readonly string[] | null, options: ReachReadOptions = {}): Promise<SiteReachRow[]> {
  const { rewritten, cache } = options;
  if (crmSiteIds !== null && crmSiteIds.length === 0) return [];
  const { crm, sql } = conn;
  const { sites, contacts } = await crm.snapshot(async (snap) => {
    const checked = await loadSites(crm, snap, snap.shape, crmSiteIds);
    const enabled = sitesIn(checked, crmSiteIds, true);
    const rows = await readLiveContactRows(snap, crm.relations, snap.shape, crmSiteIds === null ? null : enabled.map((x) => x.crmSiteId), rules);
    // A key held twice is not synced (domain/crmRows.ts): it does not count towards the site's reach.
    const { duplicates } = checkContactKeys(rows, checked);
    return { sites: enabled, contacts: rows.filter((r) => r.id && !duplicates.has(contactKey(r.site_id, r.id))) };
  });
  sites.sort((a, b) => cmp(a.dealerId, b.dealerId) || cmp(a.siteId, b.siteId));
  const ledger = await readEchoChecks(sql, crmSiteIds === null ? null : sites);
  const bySite = new Map<string, { crmSiteId: string; key: string; contacts: CountedContact[] }>();
  for (const site of sites) bySite.set(site.crmSiteId, { crmSiteId: site.crmSiteId, key: siteKey(site), contacts: [] });
  let n = 0;
  for (const r of contacts) {
    const entry = bySite.get(r.site_id);
    if (!entry) continue;
    const l = ledger.get(`${entry.key}\u0000${r.id}`);
    const problem = rewritten?.(entry.key, r.id) ? null : (l?.problem ?? null);
    const crmContact = toCrmContact(r);
    const memo = cache && JSON.stringify([crmContact.id, crmContact.firstName, crmContact.lastName, crmContact.phoneNumber, crmContact.email, problem, l?.phone ?? null]);
    let counted = memo === undefined ? undefined : cache?.get(memo);
    if (!counted) {
      counted = countedContact(crmContact, rules, problem, l?.phone ?? null);
      if (memo !== undefined && cache) {
        if (cache.size >= MAX_CACHED) cache.clear();
        cache.set(memo, counted);
      }
    }
    entry.contacts.push(counted);
    if (++n % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return [...bySite.values()].map((e) => ({ site: e.key, crmSiteId: e.crmSiteId, ...siteReach(e.contacts) }));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The ledger's echo checks and phones last sent, by site key and `external_contact_id` (null = every site). */
async function readEchoChecks(sql: RunSql, sites: readonly SiteRef[] | null): Promise<Map<string, { problem: string | null; phone: string | null }>> {
  if (sites !== null && sites.length === 0) return new Map();
  const only = sites === null ? Prisma.empty : Prisma.sql`JOIN ${siteRefsTable(sites)} ON l.chekt_dealer_id = t.d AND l.chekt_site_id = t.s`;
  const rows = await sql<{ d: string; s: string; e: string; problem: string | null; phone: string | null }>(Prisma.sql`
    SELECT l.chekt_dealer_id AS d, l.chekt_site_id AS s, l.external_contact_id AS e, l.reach_problem AS problem, l.last_sent->>'phone_number' AS phone
      FROM sync_ledger l ${only}
     WHERE l.reach_problem IS NOT NULL OR l.last_sent IS NOT NULL`);
  return new Map(rows.map((r) => [`${siteKey(r.d, r.s)}\u0000${r.e}`, { problem: r.problem, phone: r.phone }]));
}

/**
 * One CRM contact as {@link siteReach} counts it. The ledger's reach problem counts only while it is about the
 * phone the CRM still has (the echo check of the last write of this same value); a phone changed since waits
 * for its own write and check.
 */
export function countedContact(crm: CrmContact, rules: NormalizeRules, reachProblem: string | null, sentPhone: string | null): CountedContact {
  const prepared = prepareContact(crm, rules);
  const current = prepared.ok && prepared.contact.phone.state === 'value' && prepared.contact.phone.value === sentPhone;
  return { ...contactReach(prepared, crm.phoneNumber, rules, current ? reachProblem : null), synced: prepared.ok };
}

/** The number of enabled sites without an SMS-capable contact (gauge `chekt_sync_sites_unreachable`). */
export async function countUnreachableSites(db: ReachConnections, rules: NormalizeRules, cache?: Map<string, CountedContact>): Promise<number> {
  return (await readSiteReach(db, rules, null, cache ? { cache } : {})).filter((s) => s.smsCapable === 0).length;
}

/**
 * {@link countUnreachableSites} for the gauge: reads every enabled site's contacts, so one answer serves the
 * scrapes of the next `ttlMs` (default 30,000 ms; several Prometheus servers may scrape every few seconds),
 * concurrent scrapes share one read, and contacts are classified again only when their row changed
 * (docs/REACHABILITY.md gives the cost).
 */
export function unreachableSitesGauge(db: ReachConnections, rules: NormalizeRules, ttlMs = 30_000, now: () => number = Date.now): () => Promise<number> {
  let cached: { at: number; value: Promise<number> } | null = null;
  const contacts = new Map<string, CountedContact>();
  return () => {
    if (cached && now() - cached.at < ttlMs) return cached.value;
    const value = countUnreachableSites(db, rules, contacts);
    const entry = { at: now(), value };
    cached = entry;
    // A failed read is not cached: the scrape fails once and the next one reads again.
    value.catch(() => {
      if (cached === entry) cached = null;
    });
    return value;
  };
}

/**
 * SMS-capable contacts this service holds in CHeKT per site ("dealerId/siteId") among the given
 * `external_contact_id`s, by the phone last sent (`sync_ledger.last_sent`) and its echo check. Used for the
 * deletes a plan makes (domain/safety.ts rule 3).
 */
export async function countSmsCapableSent(
  db: PrismaClient,
  rules: NormalizeRules,
  contacts: ReadonlyArray<{ dealerId: string; siteId: string; externalContactId: string }>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (contacts.length === 0) return out;
  const rows = await db.$queryRaw<Array<{ dealer: string; site: string; phone: string | null; problem: string | null }>>`
    SELECT l.chekt_dealer_id AS dealer, l.chekt_site_id AS site, l.last_sent->>'phone_number' AS phone, l.reach_problem AS problem
      FROM sync_ledger l
      JOIN unnest(${contacts.map((c) => c.dealerId)}::text[], ${contacts.map((c) => c.siteId)}::text[], ${contacts.map((c) => c.externalContactId)}::text[]) AS t(d, s, e)
        ON l.chekt_dealer_id = t.d AND l.chekt_site_id = t.s AND l.external_contact_id = t.e
     WHERE l.chekt_contact_id IS NOT NULL`;
  for (const r of rows) {
    const key = siteKey(r.dealer, r.site);
    out.set(key, (out.get(key) ?? 0) + (sentSmsCapable(r, rules) ? 1 : 0));
  }
  return out;
}

/**
 * SMS-capable contacts this service held in CHeKT per site before a run, by the phones last sent (ledger)
 * and their echo checks; only sites with at least one managed contact are listed.
 */
export async function readSentReach(conn: ReachConnections, rules: NormalizeRules, crmSiteIds: readonly string[] | null): Promise<Map<string, { managed: number; smsCapable: number }>> {
  if (crmSiteIds !== null && crmSiteIds.length === 0) return new Map();
  const sites = await usableSites(conn.crm, crmSiteIds, true);
  if (sites.length === 0) return new Map();
  const rows = await conn.sql<{ dealer: string; site: string; phone: string | null; problem: string | null }>(Prisma.sql`
    SELECT l.chekt_dealer_id AS dealer, l.chekt_site_id AS site, l.last_sent->>'phone_number' AS phone, l.reach_problem AS problem
      FROM sync_ledger l
      JOIN ${siteRefsTable(sites)} ON l.chekt_dealer_id = t.d AND l.chekt_site_id = t.s
     WHERE l.chekt_contact_id IS NOT NULL`);
  const out = new Map<string, { managed: number; smsCapable: number }>();
  for (const r of rows) {
    const key = siteKey(r.dealer, r.site);
    const e = out.get(key) ?? { managed: 0, smsCapable: 0 };
    e.managed += 1;
    if (sentSmsCapable(r, rules)) e.smsCapable += 1;
    out.set(key, e);
  }
  return out;
}

/** A phone last sent to CHeKT can be texted: an SMS-capable type, and the echo check found no problem. */
function sentSmsCapable(r: { phone: string | null; problem: string | null }, rules: NormalizeRules): boolean {
  return r.problem === null && isSmsCapable(classifyPhone(r.phone, rules));
}

/**
 * The contacts this service holds in CHeKT on one site, by the phone last sent and its echo check: how many of
 * them other than `externalContactId` can be texted, and whether that one can (the worker's delete gate).
 */
export async function readSentSmsForDelete(
  db: Pick<PrismaClient, '$queryRaw'>,
  site: { readonly dealerId: string; readonly siteId: string },
  externalContactId: string,
  rules: NormalizeRules,
): Promise<{ others: number; deleted: boolean }> {
  const rows = await db.$queryRaw<Array<{ ext: string; phone: string | null; problem: string | null }>>`
    SELECT external_contact_id AS ext, last_sent->>'phone_number' AS phone, reach_problem AS problem
      FROM sync_ledger
     WHERE chekt_dealer_id = ${site.dealerId} AND chekt_site_id = ${site.siteId} AND chekt_contact_id IS NOT NULL`;
  let others = 0;
  let deleted = false;
  for (const r of rows) {
    if (!sentSmsCapable(r, rules)) continue;
    if (r.ext === externalContactId) deleted = true;
    else others += 1;
  }
  return { others, deleted };
}
