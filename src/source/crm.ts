import type { CrmContact, NormalizeRules } from '../domain/contact.js';
import { checkContactKeys, checkSites, contactKey, sitesIn, toCrmContact, type CheckedSites, type CrmSite } from '../domain/crmRows.js';
import { siteKey, type SiteRef } from '../domain/site.js';
import type { SiteContacts, SiteSelection } from '../sync/ports/planner.js';
import type { CrmSource } from './crm/database.js';
import type { CrmShape, Queryable } from './crm/inspect.js';
import { readKnownContactIds, readLiveContactRows, readSiteRows, readSiteRowsByRef } from './crm/reads.js';

/**
 * The planner's reads of the partner's CRM through the source contract (docs/CRM.md#the-contract): the two
 * relations `CRM_SITES_SOURCE` and `CRM_CONTACTS_SOURCE` on the CRM connection. A failed read throws; callers
 * must treat that as "plan nothing", never as "no contacts".
 */

/** The checked sites of the given CRM site ids (null = all): ./crm/reads.ts `readSiteRows` through domain/crmRows.ts. */
export async function loadSites(crm: CrmSource, q: Queryable, shape: CrmShape, crmSiteIds: readonly string[] | null): Promise<CheckedSites> {
  return checkSites(await readSiteRows(q, crm.relations, shape, crmSiteIds), shape.sites.has('sync_enabled'));
}

/**
 * Sites to plan: every usable site with `sync_enabled` when `refs` is empty, else the requested ones. A requested
 * site missing from the CRM, unusable or with sync disabled is rejected with a reason (never wiped: a disabled
 * site is left as it is in CHeKT).
 */
export async function selectSites(crm: CrmSource, refs: readonly SiteRef[] = []): Promise<SiteSelection> {
  const shape = await crm.shape();
  if (refs.length === 0) {
    const checked = await loadSites(crm, crm, shape, null);
    const sites = sitesIn(checked, null, true).sort((a, b) => cmp(a.dealerId, b.dealerId) || cmp(a.siteId, b.siteId));
    return { sites, rejected: [], problems: checked.problems };
  }
  const rows = await readSiteRowsByRef(crm, crm.relations, shape, refs);
  const checked = await loadSites(crm, crm, shape, [...new Set(rows.map((r) => r.id).filter((id): id is string => !!id))]);
  const byRef = new Map([...checked.byId.values()].map((s) => [siteKey(s), s]));
  const sites: CrmSite[] = [];
  const rejected: SiteSelection['rejected'] = [];
  for (const ref of refs) {
    const key = siteKey(ref);
    const site = byRef.get(key);
    if (checked.conflicted.has(key)) rejected.push({ ref: key, reason: 'more than one CRM site maps to this chekt_dealer_id/chekt_site_id' });
    else if (!site) {
      const row = rows.find((r) => r.chekt_dealer_id?.trim() === ref.dealerId && r.chekt_site_id?.trim() === ref.siteId);
      const problem = row?.id ? checked.problems.find((p) => p.crmSiteId === row.id) : undefined;
      rejected.push({ ref: key, reason: problem ? `the CRM site ${row!.id} cannot be synced: ${problem.reason}` : 'no CRM site with this chekt_dealer_id/chekt_site_id' });
    } else if (!site.syncEnabled) rejected.push({ ref: key, reason: 'sync_enabled is false for this site' });
    else if (!sites.includes(site)) sites.push(site);
  }
  return { sites, rejected, problems: checked.problems };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The usable CRM sites with these CRM site ids (null = every usable site); `enabledOnly` keeps those with
 * `sync_enabled`. Unusable ones are left out here; the reads that plan them report them.
 */
export async function usableSites(crm: CrmSource, crmSiteIds: readonly string[] | null, enabledOnly = false): Promise<CrmSite[]> {
  if (crmSiteIds !== null && crmSiteIds.length === 0) return [];
  return sitesIn(await loadSites(crm, crm, await crm.shape(), crmSiteIds), crmSiteIds, enabledOnly);
}

/** The usable CRM sites with these CRM site ids (any `sync_enabled`). */
export async function selectSitesById(crm: CrmSource, crmSiteIds: readonly string[]): Promise<CrmSite[]> {
  return usableSites(crm, crmSiteIds);
}

/**
 * Live contacts of the given CRM sites with their fingerprints, in one snapshot: every id present in the result,
 * maybe empty. A (`site_id`, `id`) pair seen twice is left out of `contacts` and listed in `withheld` (neither
 * synced nor deleted) with a problem.
 */
export async function readSiteContacts(crm: CrmSource, sites: readonly CrmSite[], rules: NormalizeRules): Promise<SiteContacts> {
  const crmSiteIds = sites.map((s) => s.crmSiteId);
  const contacts = new Map(crmSiteIds.map((id): [string, CrmContact[]] => [id, []]));
  const fingerprints = new Map(crmSiteIds.map((id): [string, Map<string, string>] => [id, new Map()]));
  const withheld = new Map<string, Set<string>>();
  if (crmSiteIds.length === 0) return { contacts, fingerprints, withheld, problems: [] };
  const rows = await crm.snapshot((snap) => readLiveContactRows(snap, crm.relations, snap.shape, crmSiteIds, rules));
  const keys = checkContactKeys(rows, { byId: new Map(sites.map((s) => [s.crmSiteId, s])), unusable: new Set(), conflicted: new Set(), problems: [] });
  for (const r of rows) {
    if (!r.id || !r.site_id) continue;
    const key = contactKey(r.site_id, r.id);
    if (keys.duplicates.has(key)) {
      withheld.set(r.site_id, (withheld.get(r.site_id) ?? new Set<string>()).add(r.id));
      continue;
    }
    if (!keys.live.has(key)) continue;
    contacts.get(r.site_id)?.push(toCrmContact(r));
    fingerprints.get(r.site_id)?.set(r.id, r.fp);
  }
  return { contacts, fingerprints, withheld, problems: keys.problems };
}

/**
 * Which of `ids` are contacts of the CRM site `crmSiteId` (live or soft-deleted). Contacts of other sites do
 * not count: an id that merely collides with another site's contact must not make a CHeKT contact "ours".
 */
export async function findKnownContactIds(crm: CrmSource, ids: readonly string[], crmSiteId: string): Promise<Set<string>> {
  return readKnownContactIds(crm, crm.relations, ids, crmSiteId);
}
