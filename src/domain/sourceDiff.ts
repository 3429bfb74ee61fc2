import type { RemovedRow } from './changes.js';
import { contactKey, type CheckedKeys, type CheckedSites, type CrmSite } from './crmRows.js';
import { siteKey, type SiteKey } from './site.js';

/**
 * The change tick's diff (docs/ARCHITECTURE.md#layout-and-flow, "Change tick"): the CRM's live contact keys and
 * fingerprints (one snapshot, checked by ./crmRows.ts) against the ledger. Pure, so one code path serves a CRM in
 * the service's own database and one on another server.
 *
 * - A live contact of an enabled site in scope is **changed** when its fingerprint differs from the ledger's
 *   `crm_hash`, or a change of it is still pending (an edit reverted while its job runs must still reach CHeKT:
 *   the plan joins the job, which applies again, latest wins); except while its failure cools down (the same
 *   fingerprint failed for good less than `FAILED_RETRY_COOLDOWN_SECONDS` ago).
 * - A ledger contact held in CHeKT on an enabled site in scope is **removed** when the site has no live contact
 *   with its `external_contact_id` (soft or hard deleted, absent from the view, moved to another site); a key
 *   seen twice counts as present. Sites that are disabled, unusable or no longer mapped are left alone.
 */

/** What the ledger knows of one contact, for the diff (source/ledger.ts `readLedgerForDiff`). */
export interface LedgerDiffRow {
  readonly dealerId: string;
  readonly siteId: string;
  readonly externalContactId: string;
  readonly crmHash: string | null;
  readonly chektContactId: string | null;
  readonly lastSentHash: string | null;
  readonly pending: boolean;
  /** `failed_hash` while its failure cools down, else null. */
  readonly coolingHash: string | null;
}

/** A changed contact key, with its site and ledger row. */
export interface ChangedKey {
  readonly site: CrmSite;
  readonly id: string;
  readonly fp: string;
  readonly ledger: LedgerDiffRow | undefined;
}

/** Result of {@link diffSource}. */
export interface SourceDiff {
  /** Ordered by dealer, site and id. */
  readonly changed: ChangedKey[];
  /** Ordered by dealer, site and id. */
  readonly removed: RemovedRow[];
}

/** `dealer/site` + `external_contact_id` as one map key. */
export const ledgerKey = (site: SiteKey, externalContactId: string): string => `${site}\u0000${externalContactId}`;

/**
 * The diff (see the module comment). `crmSiteIds`: CRM sites in scope, null = every enabled site.
 * `deleteFailedMarker`: the `failed_hash` a delete that failed for good leaves (sync/ports/operations.ts).
 */
export function diffSource(input: {
  readonly sites: CheckedSites;
  readonly keys: CheckedKeys;
  readonly ledger: Iterable<LedgerDiffRow>;
  readonly crmSiteIds: readonly string[] | null;
  readonly deleteFailedMarker: string;
}): SourceDiff {
  const inScope = input.crmSiteIds === null ? null : new Set(input.crmSiteIds);
  const planned = new Map<SiteKey, CrmSite>();
  for (const s of input.sites.byId.values()) if (s.syncEnabled && (inScope === null || inScope.has(s.crmSiteId))) planned.set(siteKey(s), s);
  const byLedgerKey = new Map<string, LedgerDiffRow>();
  const removed: RemovedRow[] = [];
  for (const l of input.ledger) {
    const key = siteKey(l.dealerId, l.siteId);
    const site = planned.get(key);
    if (!site) continue;
    byLedgerKey.set(ledgerKey(key, l.externalContactId), l);
    if (!l.chektContactId) continue;
    const ck = contactKey(site.crmSiteId, l.externalContactId);
    if (input.keys.live.has(ck) || input.keys.duplicates.has(ck) || l.coolingHash === input.deleteFailedMarker) continue;
    removed.push({ crmSiteId: site.crmSiteId, dealerId: l.dealerId, siteId: l.siteId, externalContactId: l.externalContactId, chektContactId: l.chektContactId });
  }
  const changed: ChangedKey[] = [];
  const siteById = new Map([...planned.values()].map((s) => [s.crmSiteId, s]));
  for (const k of input.keys.live.values()) {
    const site = siteById.get(k.crmSiteId);
    if (!site) continue;
    const l = byLedgerKey.get(ledgerKey(siteKey(site), k.id));
    if (l && l.crmHash === k.fp && !l.pending) continue;
    if (l?.coolingHash === k.fp) continue;
    changed.push({ site, id: k.id, fp: k.fp, ledger: l });
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  changed.sort((a, b) => cmp(a.site.dealerId, b.site.dealerId) || cmp(a.site.siteId, b.site.siteId) || cmp(a.id, b.id));
  removed.sort((a, b) => cmp(a.dealerId, b.dealerId) || cmp(a.siteId, b.siteId) || cmp(a.externalContactId, b.externalContactId));
  return { changed, removed };
}
