import { siteKey, type SiteRef } from '../domain/site.js';
import type { CrmContact } from '../domain/contact.js';
import type { CrmSite, SiteSelection } from '../sync/ports/planner.js';
import type { PrismaClient } from './db.js';

/**
 * Reads of the partner's CRM tables (`sites`, `contacts`). Plain functions taking the db handle first.
 * A failed read throws (Prisma/pg errors); callers must treat that as "plan nothing", never as "no contacts".
 */

const toSite = (s: { id: string; chektDealerId: string; chektSiteId: string; name: string; syncEnabled: boolean }): CrmSite => ({
  crmSiteId: s.id,
  dealerId: s.chektDealerId,
  siteId: s.chektSiteId,
  name: s.name,
  syncEnabled: s.syncEnabled,
});

/**
 * Sites to plan: every site with `sync_enabled` when `refs` is empty, else the requested ones. A requested
 * site missing from the CRM or with sync disabled is rejected with a reason (never wiped: a disabled site is
 * left as it is in CHeKT).
 */
export async function selectSites(db: PrismaClient, refs: readonly SiteRef[] = []): Promise<SiteSelection> {
  if (refs.length === 0) {
    const rows = await db.site.findMany({ where: { syncEnabled: true }, orderBy: [{ chektDealerId: 'asc' }, { chektSiteId: 'asc' }] });
    return { sites: rows.map(toSite), rejected: [] };
  }
  const rows = await db.site.findMany({ where: { OR: refs.map((r) => ({ chektDealerId: r.dealerId, chektSiteId: r.siteId })) } });
  const byRef = new Map(rows.map((r) => [siteKey(r.chektDealerId, r.chektSiteId), toSite(r)]));
  const sites: CrmSite[] = [];
  const rejected: SiteSelection['rejected'] = [];
  for (const ref of refs) {
    const key = siteKey(ref);
    const site = byRef.get(key);
    if (!site) rejected.push({ ref: key, reason: 'no CRM site with this chekt_dealer_id/chekt_site_id' });
    else if (!site.syncEnabled) rejected.push({ ref: key, reason: 'sync_enabled is false for this site' });
    else if (!sites.includes(site)) sites.push(site);
  }
  return { sites, rejected };
}

/** The CRM sites with these `sites.id`s (any `sync_enabled`). */
export async function selectSitesById(db: PrismaClient, ids: readonly string[]): Promise<CrmSite[]> {
  if (ids.length === 0) return [];
  return (await db.site.findMany({ where: { id: { in: [...ids] } } })).map(toSite);
}

// Prisma's `contacts` row is the domain's CrmContact with the CRM site id under its column's name.
const toContact = ({ siteId, ...c }: Omit<CrmContact, 'crmSiteId'> & { siteId: string }): CrmContact => ({ ...c, crmSiteId: siteId });

/** Live contacts (`deleted_at` null) of the given CRM sites, grouped by `sites.id`. */
export async function readLiveContacts(db: PrismaClient, crmSiteIds: readonly string[]): Promise<Map<string, CrmContact[]>> {
  const rows = await db.contact.findMany({ where: { siteId: { in: [...crmSiteIds] }, deletedAt: null }, orderBy: { id: 'asc' } });
  const out = new Map<string, CrmContact[]>(crmSiteIds.map((id) => [id, []]));
  for (const r of rows) out.get(r.siteId)?.push(toContact(r));
  return out;
}

/**
 * Which of `ids` are contacts of the CRM site `crmSiteId` (live or soft-deleted). Contacts of other sites do
 * not count: an id that merely collides with another site's contact must not make a CHeKT contact "ours".
 */
export async function findKnownContactIds(db: PrismaClient, ids: readonly string[], crmSiteId: string): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.contact.findMany({ where: { id: { in: [...ids] }, siteId: crmSiteId }, select: { id: true } });
  return new Set(rows.map((r) => r.id));
}
