import type { RemovedRow } from './changes.js';
import { contactKey, usableKey, type CheckedSites, type ContactKeyRow, type CrmSite, type SourceProblem } from './crmRows.js';
import { siteKey, type SiteKey } from './site.js';

/**
 * The change tick's diff (docs/ARCHITECTURE.md#layout-and-flow, "Change tick"): the CRM's live contact keys and
 * fingerprints (one snapshot) against the ledger. Pure, so one code path serves a CRM in the service's own database
 * and one on another server. Streaming: the ledger is loaded first ({@link SourceDiffer.addLedger}), then the CRM's
 * keys arrive in batches ({@link SourceDiffer.addKeys}) and only the changed ones are kept, so memory holds the
 * ledger, one set of the keys seen and the changes (100,000 contacts: docs/BENCHMARKS.md).
 *
 * - A live contact of an enabled site in scope is **changed** when its fingerprint differs from the ledger's
 *   `crm_hash`, or a change of it is still pending (an edit reverted while its job runs must still reach CHeKT:
 *   the plan joins the job, which applies again, latest wins); except while its failure cools down (the same
 *   fingerprint failed for good less than `FAILED_RETRY_COOLDOWN_SECONDS` ago).
 * - A ledger contact held in CHeKT on an enabled site in scope is **removed** when the site has no live contact
 *   with its `external_contact_id` (soft or hard deleted, absent from the view, moved to another site); a key
 *   seen twice counts as present, and is neither changed nor removed (domain/crmRows.ts). Sites that are
 *   disabled, unusable or no longer mapped are left alone.
 */

/** What the ledger knows of one contact, for the diff (source/changes.ts `readLedgerForDiff`). */
export interface LedgerDiffRow {
  readonly dealerId: string;
  readonly siteId: string;
  readonly externalContactId: string;
  readonly crmHash: string | null;
  readonly chektContactId: string | null;
  readonly pending: boolean;
  /** `failed_hash` while its failure cools down, else null. */
  readonly coolingHash: string | null;
}

/** A ledger row as kept by the differ: its site is the planned {@link CrmSite} (one string per site, not per row). */
export interface KeptLedgerRow {
  readonly site: CrmSite;
  readonly externalContactId: string;
  /** Live CRM rows seen with this key so far (0, 1, or 2 for a duplicate): marked here, not in a set of its own. */
  seen: number;
  readonly crmHash: string | null;
  readonly chektContactId: string | null;
  readonly pending: boolean;
  readonly coolingHash: string | null;
}

/** A changed contact key, with its site and ledger row. */
export interface ChangedKey {
  readonly site: CrmSite;
  readonly id: string;
  readonly fp: string;
  readonly ledger: KeptLedgerRow | undefined;
}

/** Result of {@link SourceDiffer.finish}. */
export interface SourceDiff {
  /** Ordered by dealer, site and id. */
  readonly changed: ChangedKey[];
  /** Ordered by dealer, site and id. */
  readonly removed: RemovedRow[];
  /** Contact rows left out (empty key, unknown site, duplicate key), with the reason. */
  readonly problems: SourceProblem[];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The streaming diff; see the module comment. One instance per change read. */
export class SourceDiffer {
  private readonly planned = new Map<SiteKey, CrmSite>();
  private readonly plannedById = new Map<string, CrmSite>();
  /** Ledger rows of planned sites, by {@link contactKey} of their CRM site and `external_contact_id`. */
  private readonly ledger = new Map<string, KeptLedgerRow>();
  /** Live, usable contact keys seen once that have no ledger row (those with one are marked on it). */
  private readonly seenNew = new Set<string>();
  private readonly duplicates = new Set<string>();
  private readonly candidates = new Map<string, ChangedKey>();
  private readonly problems: SourceProblem[] = [];

  /**
   * `crmSiteIds`: CRM sites in scope, null = every enabled site. `deleteFailedMarker`: the `failed_hash` a delete
   * that failed for good leaves (sync/ports/operations.ts).
   */
  constructor(
    private readonly sites: CheckedSites,
    crmSiteIds: readonly string[] | null,
    private readonly deleteFailedMarker: string,
  ) {
    const inScope = crmSiteIds === null ? null : new Set(crmSiteIds);
    for (const s of sites.byId.values()) {
      if (!s.syncEnabled || (inScope !== null && !inScope.has(s.crmSiteId))) continue;
      this.planned.set(siteKey(s), s);
      this.plannedById.set(s.crmSiteId, s);
    }
  }

  /** The planned sites (enabled, usable, in scope). */
  plannedSites(): CrmSite[] {
    return [...this.planned.values()];
  }

  /** Adds ledger rows (all of them before the first {@link addKeys}); rows of sites not planned are dropped. */
  addLedger(rows: Iterable<LedgerDiffRow>): void {
    for (const l of rows) {
      const site = this.planned.get(siteKey(l.dealerId, l.siteId));
      if (!site) continue;
      this.ledger.set(contactKey(site.crmSiteId, l.externalContactId), {
        site,
        externalContactId: l.externalContactId,
        crmHash: l.crmHash,
        chektContactId: l.chektContactId,
        pending: l.pending,
        coolingHash: l.coolingHash,
        seen: 0,
      });
    }
  }

  /** Adds a batch of the CRM's live contact keys (domain/crmRows.ts rules for empty keys and unknown sites). */
  addKeys(rows: Iterable<ContactKeyRow>): void {
    for (const r of rows) {
      const usable = usableKey(r, this.sites, this.problems);
      if (!usable) continue;
      const { crmSiteId, id } = usable;
      const key = contactKey(crmSiteId, id);
      if (this.duplicates.has(key)) continue;
      const l = this.ledger.get(key);
      let again: boolean;
      if (l) again = l.seen++ > 0;
      else {
        again = this.seenNew.has(key);
        this.seenNew.add(key);
      }
      if (again) {
        this.duplicates.add(key);
        this.candidates.delete(key);
        this.problems.push({ crmSiteId, externalContactId: id, reason: 'two contact rows have this (site_id, id): neither is synced, and the contact is not deleted' });
        continue;
      }
      const site = this.plannedById.get(crmSiteId);
      if (!site) continue;
      if (l && l.crmHash === r.fp && !l.pending) continue;
      if (l?.coolingHash === r.fp) continue;
      this.candidates.set(key, { site, id, fp: r.fp, ledger: l });
    }
  }

  /** The changed and removed contacts, and the rows left out. */
  finish(): SourceDiff {
    const removed: RemovedRow[] = [];
    for (const [key, l] of this.ledger) {
      if (!l.chektContactId || l.seen > 0 || this.duplicates.has(key) || l.coolingHash === this.deleteFailedMarker) continue;
      removed.push({ crmSiteId: l.site.crmSiteId, dealerId: l.site.dealerId, siteId: l.site.siteId, externalContactId: l.externalContactId, chektContactId: l.chektContactId });
    }
    const changed = [...this.candidates.values()];
    changed.sort((a, b) => cmp(a.site.dealerId, b.site.dealerId) || cmp(a.site.siteId, b.site.siteId) || cmp(a.id, b.id));
    removed.sort((a, b) => cmp(a.dealerId, b.dealerId) || cmp(a.siteId, b.siteId) || cmp(a.externalContactId, b.externalContactId));
    return { changed, removed, problems: this.problems };
  }
}
