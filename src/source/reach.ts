import type { CrmContact, NormalizeRules } from '../domain/contact.js';
import { prepareContact } from '../domain/contact.js';
import { classifyPhone, contactReach, isSmsCapable, siteReach, type CountedContact, type SiteReachRow } from '../domain/reach.js';
import { Prisma } from '../generated/prisma/client.js';
import { rowToContact } from './changes.js';
import type { PrismaClient } from './db.js';
import { siteKey } from '../domain/site.js';

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

/**
 * Reachability of CRM sites with `sync_enabled`: every one (`crmSiteIds` null) or the given ones. An enabled
 * site without a live contact is listed too (0 contacts: unreachable). Ordered by dealer and site.
 * @throws the Prisma/pg error when PostgreSQL cannot be read.
 */
export async function readSiteReach(db: Pick<PrismaClient, '$queryRaw'>, rules: NormalizeRules, crmSiteIds: readonly string[] | null, options: ReachReadOptions = {}): Promise<SiteReachRow[]> {
  const { rewritten, cache } = options;
  if (crmSiteIds !== null && crmSiteIds.length === 0) return [];
  const filter = crmSiteIds === null ? Prisma.empty : Prisma.sql`AND s.id = ANY(${[...crmSiteIds]})`;
  const rows = await db.$queryRaw<Array<Record<string, unknown>>>`
    SELECT s.id AS crm_site_id, s.chekt_dealer_id AS dealer, s.chekt_site_id AS site,
           c.id, c.site_id, c.first_name, c.last_name, c.phone_number, c.email, c.deleted_at, c.updated_at,
           l.reach_problem, l.last_sent->>'phone_number' AS sent_phone
      FROM sites s
      LEFT JOIN contacts c ON c.site_id = s.id AND c.deleted_at IS NULL
      LEFT JOIN sync_ledger l
        ON l.chekt_dealer_id = s.chekt_dealer_id AND l.chekt_site_id = s.chekt_site_id AND l.external_contact_id = c.id
     WHERE s.sync_enabled ${filter}
     ORDER BY s.chekt_dealer_id, s.chekt_site_id`;
  const bySite = new Map<string, { crmSiteId: string; contacts: CountedContact[] }>();
  let n = 0;
  for (const r of rows) {
    const key = siteKey(r.dealer as string, r.site as string);
    let entry = bySite.get(key);
    if (!entry) bySite.set(key, (entry = { crmSiteId: r.crm_site_id as string, contacts: [] }));
    if (r.id === null) continue;
    const problem = rewritten?.(key, r.id as string) ? null : (r.reach_problem as string | null);
    const crm = rowToContact(r);
    const memo = cache && JSON.stringify([crm.id, crm.firstName, crm.lastName, crm.phoneNumber, crm.email, problem, r.sent_phone]);
    let counted = memo === undefined ? undefined : cache?.get(memo);
    if (!counted) {
      counted = countedContact(crm, rules, problem, r.sent_phone as string | null);
      if (memo !== undefined && cache) {
        if (cache.size >= MAX_CACHED) cache.clear();
        cache.set(memo, counted);
      }
    }
    entry.contacts.push(counted);
    if (++n % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return [...bySite].map(([site, e]) => ({ site, crmSiteId: e.crmSiteId, ...siteReach(e.contacts) }));
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
export async function countUnreachableSites(db: PrismaClient, rules: NormalizeRules, cache?: Map<string, CountedContact>): Promise<number> {
  return (await readSiteReach(db, rules, null, cache ? { cache } : {})).filter((s) => s.smsCapable === 0).length;
}

/**
 * {@link countUnreachableSites} for the gauge: reads every enabled site's contacts, so one answer serves the
 * scrapes of the next `ttlMs` (default 30,000 ms; several Prometheus servers may scrape every few seconds),
 * concurrent scrapes share one read, and contacts are classified again only when their row changed
 * (docs/REACHABILITY.md gives the cost).
 */
export function unreachableSitesGauge(db: PrismaClient, rules: NormalizeRules, ttlMs = 30_000, now: () => number = Date.now): () => Promise<number> {
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
export async function readSentReach(db: PrismaClient, rules: NormalizeRules, crmSiteIds: readonly string[] | null): Promise<Map<string, { managed: number; smsCapable: number }>> {
  if (crmSiteIds !== null && crmSiteIds.length === 0) return new Map();
  const filter = crmSiteIds === null ? Prisma.empty : Prisma.sql`AND s.id = ANY(${[...crmSiteIds]})`;
  const rows = await db.$queryRaw<Array<{ dealer: string; site: string; phone: string | null; problem: string | null }>>`
    SELECT l.chekt_dealer_id AS dealer, l.chekt_site_id AS site, l.last_sent->>'phone_number' AS phone, l.reach_problem AS problem
      FROM sync_ledger l JOIN sites s ON s.chekt_dealer_id = l.chekt_dealer_id AND s.chekt_site_id = l.chekt_site_id
     WHERE l.chekt_contact_id IS NOT NULL AND s.sync_enabled ${filter}`;
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
