import type { CrmContact } from './contact.js';
import { siteKey, type SiteKey, type SiteRef } from './site.js';

/**
 * The CRM's rows as read through the source contract (docs/CRM.md#the-contract), checked before anything is
 * planned from them. Pure. The reads (source/crm/) select every column as text; these functions decide, row by
 * row, what is usable. A bad row or site is reported with its reason and left out, and never blocks the others
 * (docs/CRM.md#bad-rows):
 * - a site with an empty `id`, or without `chekt_dealer_id` / `chekt_site_id`, or a `sync_enabled` that is not
 *   a flag; two rows with one `id`; two sites mapped to one CHeKT site: those sites are not planned at all (their
 *   CHeKT lists are left as they are);
 * - a contact with an empty `id` or `site_id`, a `site_id` no usable site has, or a (`site_id`, `id`) pair that
 *   appears twice: the row is not synced. A key seen twice still counts as present, so nothing is deleted for it.
 */

/** A CRM site: its CRM site id (`sites.id`), the CHeKT site it maps to (`chekt_dealer_id`, `chekt_site_id`). */
export interface CrmSite extends SiteRef {
  readonly crmSiteId: string;
  readonly name: string;
  readonly syncEnabled: boolean;
}

/** A row or site of the CRM left out, with the reason; ids only, never names, phones or e-mails. */
export interface SourceProblem {
  /** `sites.id` or `contacts.site_id` of the row; null when it has none. */
  readonly crmSiteId: string | null;
  /** `contacts.id` of a contact row; null for a site's problem, or when the row has none. */
  readonly externalContactId: string | null;
  readonly reason: string;
}

/** A `sites` row as read: every column as text (null when NULL, or when the relation lacks the optional column). */
export interface RawSiteRow {
  readonly id: string | null;
  readonly chekt_dealer_id: string | null;
  readonly chekt_site_id: string | null;
  readonly name: string | null;
  /** Null also when the relation has no such column: then every site is enabled. */
  readonly sync_enabled: string | null;
}

/** The flag spellings PostgreSQL accepts for a boolean (its `boolin`), and 1/0. */
const TRUE = new Set(['true', 't', 'yes', 'y', 'on', '1']);
const FALSE = new Set(['false', 'f', 'no', 'n', 'off', '0']);

/**
 * Reads a `sync_enabled` value: absent column = true; a boolean or one of PostgreSQL's flag spellings; anything
 * else (NULL in a relation that has the column, "maybe") is a problem.
 */
export function parseFlag(raw: string | null, columnPresent: boolean): boolean | string {
  if (!columnPresent) return true;
  if (raw === null) return 'sync_enabled is NULL (write true or false)';
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return `sync_enabled "${raw.slice(0, 20)}" is not true or false`;
}

const blank = (s: string | null): boolean => s === null || s.trim() === '';

/** Result of {@link checkSites}. */
export interface CheckedSites {
  /** Usable sites, enabled or not, by CRM site id. */
  readonly byId: ReadonlyMap<string, CrmSite>;
  /** CRM site ids that are present but not usable: their contacts are left out silently (the site is reported). */
  readonly unusable: ReadonlySet<string>;
  /** CHeKT sites that more than one CRM site maps to: not planned, and their ledger rows are not "unmapped". */
  readonly conflicted: ReadonlySet<SiteKey>;
  readonly problems: SourceProblem[];
}

/** Checks the sites relation's rows (see the module comment). */
export function checkSites(rows: Iterable<RawSiteRow>, syncEnabledPresent: boolean): CheckedSites {
  const byId = new Map<string, CrmSite>();
  const unusable = new Set<string>();
  const problems: SourceProblem[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    if (blank(r.id)) {
      problems.push({ crmSiteId: null, externalContactId: null, reason: 'a site row has an empty id' });
      continue;
    }
    const id = r.id!;
    if (seen.has(id)) {
      if (byId.delete(id) || !unusable.has(id)) problems.push({ crmSiteId: id, externalContactId: null, reason: 'two site rows have this id: the site is not synced' });
      unusable.add(id);
      continue;
    }
    seen.add(id);
    const enabled = parseFlag(r.sync_enabled, syncEnabledPresent);
    const missing = [blank(r.chekt_dealer_id) && 'chekt_dealer_id', blank(r.chekt_site_id) && 'chekt_site_id'].filter(Boolean);
    const reason = missing.length > 0 ? `the site has no ${missing.join(' and ')}: it is not synced` : typeof enabled === 'string' ? `${enabled}: the site is not synced` : null;
    if (reason) {
      problems.push({ crmSiteId: id, externalContactId: null, reason });
      unusable.add(id);
      continue;
    }
    byId.set(id, { crmSiteId: id, dealerId: r.chekt_dealer_id!.trim(), siteId: r.chekt_site_id!.trim(), name: r.name ?? '', syncEnabled: enabled as boolean });
  }
  const byKey = new Map<SiteKey, string[]>();
  for (const s of byId.values()) {
    const key = siteKey(s);
    byKey.set(key, [...(byKey.get(key) ?? []), s.crmSiteId]);
  }
  const conflicted = new Set<SiteKey>();
  for (const [key, ids] of byKey) {
    if (ids.length < 2) continue;
    conflicted.add(key);
    for (const id of ids) {
      byId.delete(id);
      unusable.add(id);
      problems.push({ crmSiteId: id, externalContactId: null, reason: `sites ${ids.slice(0, 5).join(', ')} all map to CHeKT site ${key}: none of them is synced` });
    }
  }
  return { byId, unusable, conflicted, problems };
}

/** The usable sites among `crmSiteIds` (null = every usable site), in that order; `enabledOnly` keeps those with `sync_enabled`. */
export function sitesIn(checked: CheckedSites, crmSiteIds: readonly string[] | null, enabledOnly = false): CrmSite[] {
  const all = crmSiteIds === null ? [...checked.byId.values()] : crmSiteIds.map((id) => checked.byId.get(id)).filter((s): s is CrmSite => !!s);
  return enabledOnly ? all.filter((s) => s.syncEnabled) : all;
}

/** A contact's key as the contract reads it, and its row fingerprint (source/crm/sql.ts). */
export interface ContactKeyRow {
  readonly site_id: string | null;
  readonly id: string | null;
  readonly fp: string;
}

/** A (`site_id`, `id`) pair as one map key. */
export const contactKey = (crmSiteId: string, id: string): string => `${crmSiteId}\u0000${id}`;

/** Result of {@link checkContactKeys}. */
export interface CheckedKeys {
  /** Live contacts with a usable, unique key on a usable site: fingerprint by {@link contactKey}. */
  readonly live: Map<string, { readonly crmSiteId: string; readonly id: string; readonly fp: string }>;
  /** Keys seen more than once: not synced, and never deleted for. */
  readonly duplicates: Set<string>;
  readonly problems: SourceProblem[];
}

/**
 * The key of a contact row when it has one on a usable site; else null, with the row's problem pushed to
 * `problems` (an empty `id` or `site_id`, a `site_id` no site has). Rows of an unusable site get no note of
 * their own: the site has one.
 */
export function usableKey(r: ContactKeyRow, sites: CheckedSites, problems: SourceProblem[]): { crmSiteId: string; id: string } | null {
  if (blank(r.site_id) || blank(r.id)) {
    problems.push({
      crmSiteId: blank(r.site_id) ? null : r.site_id,
      externalContactId: blank(r.id) ? null : r.id,
      reason: `a contact row has an empty ${blank(r.id) ? 'id' : 'site_id'}: it is not synced`,
    });
    return null;
  }
  const crmSiteId = r.site_id!;
  const id = r.id!;
  if (sites.byId.has(crmSiteId)) return { crmSiteId, id };
  if (!sites.unusable.has(crmSiteId)) problems.push({ crmSiteId, externalContactId: id, reason: `the contact's site_id matches no site: it is not synced` });
  return null;
}

/**
 * Checks live contact keys against the sites (see the module comment). Rows of an unusable site are left out
 * without a note of their own (the site has one).
 */
export function checkContactKeys(rows: Iterable<ContactKeyRow>, sites: CheckedSites, out: CheckedKeys = { live: new Map(), duplicates: new Set(), problems: [] }): CheckedKeys {
  for (const r of rows) {
    const usable = usableKey(r, sites, out.problems);
    if (!usable) continue;
    const { crmSiteId, id } = usable;
    const key = contactKey(crmSiteId, id);
    if (out.duplicates.has(key)) continue;
    if (out.live.delete(key)) {
      out.duplicates.add(key);
      out.problems.push({ crmSiteId, externalContactId: id, reason: 'two contact rows have this (site_id, id): neither is synced, and the contact is not deleted' });
      continue;
    }
    out.live.set(key, { crmSiteId, id, fp: r.fp });
  }
  return out;
}

/** A `contacts` row as read: every column as text. */
export interface RawContactRow {
  readonly id: string;
  readonly site_id: string;
  readonly first_name: string | null;
  readonly last_name: string | null;
  readonly phone_number: string | null;
  readonly email: string | null;
  /** Null or empty = live. */
  readonly deleted_at: string | null;
}

/**
 * A contact row as the domain's {@link CrmContact}. A NULL name reads as empty (the contact is then skipped by
 * its validation, domain/contact.ts). `deletedAt` is the row's time when PostgreSQL's text of it parses, else the
 * epoch: any non-empty `deleted_at` means removed.
 */
export function toCrmContact(r: RawContactRow): CrmContact {
  const deleted = r.deleted_at !== null && r.deleted_at.trim() !== '';
  return {
    id: r.id,
    crmSiteId: r.site_id,
    firstName: r.first_name ?? '',
    lastName: r.last_name ?? '',
    phoneNumber: r.phone_number,
    email: r.email,
    deletedAt: deleted ? parseTimestamp(r.deleted_at!) : null,
  };
}

/** PostgreSQL's text of a timestamp (`2026-12-01 10:00:00+00`) as a Date; the epoch when it does not parse. */
export function parseTimestamp(text: string): Date {
  const trimmed = text.trim();
  // A date alone (a `date` column) is midnight UTC; a time with no zone is in the session's zone, UTC.
  if (/^\d{4}-\d\d-\d\d$/.test(trimmed)) return new Date(Date.parse(`${trimmed}T00:00:00Z`) || 0);
  const iso = trimmed.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  const t = Date.parse(/[zZ]$|[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`);
  return new Date(Number.isNaN(t) ? 0 : t);
}
