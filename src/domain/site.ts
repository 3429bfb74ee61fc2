import { storableTextProblem } from './text.js';

/**
 * The identity of a site, in one place. Pure. Terms (docs/GLOSSARY.md has them all):
 * - **site**: one monitored site in CHeKT, named by CHeKT's two ids, {@link SiteRef} `dealerId` and `siteId`
 *   (the path parameters of `/partner/v1/dealers/{dealerId}/sites/{siteId}/contacts`, docs/CHEKT-API.md).
 *   Every `siteId` in this code base is CHeKT's.
 * - **CRM site id** (`crmSiteId`): the partner's own key of the site, `sites.id` in the CRM, which
 *   `contacts.site_id` points at. It is never sent to CHeKT and never called `siteId`: mixing the two up would
 *   compare a contact against the wrong site's list, and that can delete someone's contact.
 * - **site key** ({@link SiteKey}): `dealerId/siteId` as one string, for map keys, logs, the CLI's `--site`,
 *   the API's `sites[]` and run reports. Built only by {@link siteKey}, read only by {@link parseSiteKey}.
 */

/** CHeKT's identity of one site: the dealer's id and CHeKT's site id (text: CHeKT sends numbers). */
export interface SiteRef {
  readonly dealerId: string;
  readonly siteId: string;
}

/**
 * `dealerId/siteId`, e.g. `10001/42`. Branded so a plain string (a CRM site id, say) cannot pass for one.
 * CHeKT's ids are text the CRM supplies, so a "/" or "%" inside one is written `%2F` or `%25`: every key reads
 * back as the ids it was built from (ids of digits, CHeKT's own, look the same either way).
 */
export type SiteKey = string & { readonly __brand: 'SiteKey' };

/**
 * The site key of a site, `dealerId/siteId`.
 * @example siteKey({ dealerId: '10001', siteId: '42' }) === '10001/42'
 */
export function siteKey(site: SiteRef): SiteKey;
/** The site key of CHeKT's `dealerId` and `siteId` given apart (a database row's columns). */
export function siteKey(dealerId: string, siteId: string): SiteKey;
export function siteKey(siteOrDealer: SiteRef | string, siteId?: string): SiteKey {
  const [dealer, site] = typeof siteOrDealer === 'string' ? [siteOrDealer, siteId ?? ''] : [siteOrDealer.dealerId, siteOrDealer.siteId];
  return `${escapePart(dealer)}/${escapePart(site)}` as SiteKey;
}

const escapePart = (id: string): string => (/[%/]/.test(id) ? id.replaceAll('%', '%25').replaceAll('/', '%2F') : id);
const unescapePart = (part: string): string => (part.includes('%') ? part.replace(/%2F/gi, '/').replaceAll('%25', '%') : part);

/**
 * Reads a site key typed by a person or sent by a client (the CLI's `--site`, the API's `sites[]`, a stored
 * run scope). Surrounding white space of each part is ignored.
 * @throws {Error} naming the value (cut at 80 characters) when it is not two non-empty parts separated by one
 * "/", or holds text PostgreSQL cannot store (a NUL or a lone surrogate: domain/text.ts `storableTextProblem`).
 */
export function parseSiteKey(value: string): SiteRef {
  const parts = value.split('/');
  const shown = () => JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (parts.length !== 2 || !parts[0]?.trim() || !parts[1]?.trim()) {
    throw new Error(`invalid site ${shown()}: expected <dealerId>/<siteId>, e.g. 10001/42`);
  }
  const problem = storableTextProblem(value);
  if (problem) throw new Error(`invalid site ${shown()}: ${problem}`);
  return { dealerId: unescapePart(parts[0].trim()), siteId: unescapePart(parts[1].trim()) };
}
