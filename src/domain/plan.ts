import { compareContactIds } from './contactId.js';
import type { ChektContact } from '../domain/chektContact.js';
import { changedFields, contentHash, echoHash, externalIdProblem, prepareContact, remoteKeys, type ContactField, type CrmContact, type NormalizeRules } from './contact.js';
import { duplicateOpKey, opKey } from './opKey.js';

/**
 * The diff: one site's desired CRM contacts against CHeKT's live list, by `external_contact_id`, into a plan
 * value (plan, then apply: docs/ARCHITECTURE.md#layout-and-flow). Pure: no I/O, no clock.
 *
 * Ownership rule (docs/SAFETY.md#ownership-what-the-service-may-delete): a CHeKT contact may be deleted only when
 * this service manages it, i.e. the ledger records its `contact_id` for this site (created or adopted here) or its
 * `external_contact_id` is a soft-deleted CRM contact of this same site. Anything else (a dealer's portal
 * entry, another integration's contact whose id collides with a CRM contact of another site, a contact
 * without an `external_contact_id`) is "unmanaged" and never changed or deleted.
 *
 * Unaddressable rule (docs/CHEKT-AUTH-AND-IDS.md): a CHeKT contact listed with a `contact_id` that cannot name
 * it (`ChektContact.unaddressable`) is never written to. A CRM contact it holds is left out of the plan (no
 * update, and no create, which would duplicate it) and reported in `skipped` and `unaddressable`; the other
 * contacts of the site sync as usual.
 */

/** A CHeKT site as the CRM maps it. */
export interface PlanSite {
  /** The CRM site id (`sites.id`). */
  readonly crmSiteId: string;
  readonly dealerId: string;
  readonly siteId: string;
}

/** The ledger's memory of one contact on this site. */
export interface LedgerEntry {
  readonly externalContactId: string;
  /** CHeKT `contact_id` when this service created or adopted it; null after a delete. */
  readonly chektContactId: string | null;
  /** {@link contentHash} of what was last sent, and {@link echoHash} of CHeKT's answer to it. */
  readonly lastSentHash?: string | null;
  readonly lastEchoHash?: string | null;
  /** CRM fingerprint CHeKT was last made equal to (source/changes.ts). */
  readonly crmHash?: string | null;
}

/** Everything {@link planSite} needs, read beforehand by the caller. */
export interface PlanSiteInput {
  readonly site: PlanSite;
  /** Live CRM contacts of this site (`deleted_at` null). */
  readonly desired: readonly CrmContact[];
  /** CHeKT's current list for the site. */
  readonly remote: readonly ChektContact[];
  /** Ledger rows for this CHeKT site. */
  readonly ledger: readonly LedgerEntry[];
  /** `external_contact_id`s, among the remote ones, that are CRM contacts of this site (soft-deleted ones). */
  readonly knownToCrm: ReadonlySet<string>;
  /**
   * `external_contact_id`s the CRM holds on this site but that cannot be synced (a (`site_id`, `id`) pair seen twice,
   * domain/crmRows.ts): their CHeKT copies are left as they are, neither updated nor deleted. Default none.
   */
  readonly withheld?: ReadonlySet<string>;
  readonly rules: NormalizeRules;
}

/** Why an operation was planned. */
export type OperationReason =
  | 'missing_in_chekt'
  | 'fields_differ'
  | 'removed_from_crm'
  | 'duplicate_in_chekt'
  /** Change tick (domain/changes.ts): a CRM contact not yet in CHeKT, or changed since it was last sent. */
  | 'new_in_crm'
  | 'changed_in_crm'
  /** Reconcile: CHeKT no longer holds what this service last sent for an unchanged CRM contact (drift). */
  | 'drift_edited'
  | 'drift_deleted';

/** One planned write. `chektContactId` is CHeKT's `contact_id` for updates and deletes. */
export interface PlannedOperation {
  readonly kind: 'create' | 'update' | 'delete';
  readonly opKey: string;
  readonly dealerId: string;
  readonly siteId: string;
  /** CRM `sites.id` of the planned site. */
  readonly crmSiteId: string;
  readonly externalContactId: string;
  readonly chektContactId: string | null;
  readonly reason: OperationReason;
  /** For updates: the fields that differ (CHeKT's spelling). */
  readonly fields: readonly ContactField[];
}

/** A CHeKT contact matching a desired CRM contact that the ledger did not know: record it, no write needed. */
export interface Adoption {
  readonly externalContactId: string;
  readonly chektContactId: string;
}

/** A contact that is not synced, with the reason (validation). Existing CHeKT copies are left as they are. */
export interface SkippedContact {
  readonly externalContactId: string;
  readonly reason: string;
}

/** The plan for one site. */
export interface SitePlan {
  readonly site: PlanSite;
  readonly operations: readonly PlannedOperation[];
  readonly adoptions: readonly Adoption[];
  readonly skipped: readonly SkippedContact[];
  /** Field-level warnings of contacts that still sync (dropped invalid phone, truncated name). */
  readonly warnings: readonly SkippedContact[];
  /** Desired contacts already equal in CHeKT. */
  readonly unchanged: number;
  /** CHeKT contacts this service does not manage, left untouched. */
  readonly unmanaged: number;
  /** `external_contact_id`s (CRM spelling) of desired contacts CHeKT already holds (no write needed). */
  readonly inSync: readonly string[];
  /** Desired contacts CHeKT holds under an unaddressable `contact_id`: left alone, reason given (also in `skipped`). */
  readonly unaddressable: readonly SkippedContact[];
}

/** Diffs one site. See the module comment for the rules. */
export function planSite(input: PlanSiteInput): SitePlan {
  const { site, rules } = input;
  // Ids are matched in NFC: a CHeKT that normalises the external_contact_id it stores still matches.
  const ledger = new Map(input.ledger.map((l) => [idKey(l.externalContactId), l]));
  const remoteByExt = groupRemote(input.remote);
  const operations: PlannedOperation[] = [];
  const adoptions: Adoption[] = [];
  const skipped: SkippedContact[] = [];
  const warnings: SkippedContact[] = [];
  const desiredIds = new Set<string>();
  const inSync: string[] = [];
  const unaddressable: SkippedContact[] = [];
  let unchanged = 0;
  const op = (kind: PlannedOperation['kind'], ext: string, chektContactId: string | null, reason: OperationReason, fields: readonly ContactField[] = []) =>
    operations.push({
      kind,
      opKey: reason === 'duplicate_in_chekt' && chektContactId ? duplicateOpKey(site.dealerId, site.siteId, chektContactId) : opKey(site.dealerId, site.siteId, ext),
      dealerId: site.dealerId,
      siteId: site.siteId,
      crmSiteId: site.crmSiteId,
      externalContactId: ext,
      chektContactId,
      reason,
      fields,
    });

  for (const crm of input.desired) {
    const prepared = prepareContact(crm, rules);
    // An unusable id matches nothing: CHeKT contacts without an external_contact_id stay unmanaged.
    if (externalIdProblem(crm.id)) {
      skipped.push({ externalContactId: crm.id, reason: prepared.ok ? 'invalid external_contact_id' : prepared.reason });
      continue;
    }
    const key = idKey(crm.id);
    desiredIds.add(key);
    const copies = remoteByExt.get(key) ?? [];
    const blocked = copies.find((c) => c.unaddressable !== undefined);
    if (blocked?.unaddressable !== undefined) {
      const note = { externalContactId: crm.id, reason: blocked.unaddressable };
      skipped.push(note);
      unaddressable.push(note);
      continue;
    }
    const known = ledger.get(key);
    const keep = pickKept(copies, known?.chektContactId ?? null);
    for (const extra of copies) if (extra !== keep) op('delete', crm.id, extra.contactId, 'duplicate_in_chekt');
    if (!prepared.ok) {
      skipped.push({ externalContactId: crm.id, reason: prepared.reason });
      continue;
    }
    for (const w of prepared.contact.warnings) warnings.push({ externalContactId: crm.id, reason: w });
    const hash = contentHash(prepared.contact);
    if (!keep) {
      // Drift: this service had created or adopted it, and it is gone from CHeKT.
      // The vanished contact_id goes with the job, so the worker knows the ledger's id is stale (domain/decide.ts).
      if (known?.chektContactId) op('create', crm.id, known.chektContactId, 'drift_deleted');
      else op('create', crm.id, null, 'missing_in_chekt');
      continue;
    }
    if (known?.chektContactId !== keep.contactId) adoptions.push({ externalContactId: crm.id, chektContactId: keep.contactId });
    const fields = changedFields(prepared.contact, remoteKeys(keep, rules));
    if (fields.length > 0 && !holdsOurLastWrite(known, keep, hash)) {
      // Drift: the CRM still holds what was last sent, so someone edited the contact in CHeKT.
      const drift = known?.chektContactId === keep.contactId && known.lastSentHash === hash;
      op('update', crm.id, keep.contactId, drift ? 'drift_edited' : 'fields_differ', fields);
    } else {
      unchanged += 1;
      inSync.push(crm.id);
    }
  }

  let unmanaged = 0;
  const withheld = new Set([...(input.withheld ?? [])].map(idKey));
  for (const [key, listed] of remoteByExt) {
    if (desiredIds.has(key) || withheld.has(key)) continue;
    const copies = listed.filter((c) => c.unaddressable === undefined);
    unmanaged += listed.length - copies.length;
    if (copies.length === 0) continue;
    const entry = ledger.get(key);
    // The ledger's spelling of the id (the CRM's) keeps one job id per contact.
    const ext = entry?.externalContactId ?? copies[0]?.externalContactId ?? '';
    // A ledger row without a contact_id (a skipped invalid contact, or one already deleted) confers no ownership.
    const managed = key !== '' && (!!entry?.chektContactId || input.knownToCrm.has(ext));
    if (!managed) {
      unmanaged += copies.length;
      continue;
    }
    const keep = pickKept(copies, entry?.chektContactId ?? null);
    for (const c of copies) op('delete', ext, c.contactId, c === keep ? 'removed_from_crm' : 'duplicate_in_chekt');
  }
  return { site, operations, adoptions, skipped, warnings, unchanged, unmanaged, inSync, unaddressable };
}

/**
 * True when CHeKT still holds exactly what it answered to this service's last write of this contact, and the
 * CRM has not changed since that write. CHeKT may store values in its own form (phones as digits, names cut
 * to its own limit, a cleared field ignored); re-sending the same values would then loop forever. A dealer's
 * edit in CHeKT changes the echo, so drift is still repaired.
 */
function holdsOurLastWrite(entry: LedgerEntry | undefined, remote: ChektContact, desiredHash: string): boolean {
  return !!entry?.lastEchoHash && entry.chektContactId === remote.contactId && entry.lastSentHash === desiredHash && entry.lastEchoHash === echoHash(remote);
}

/** The matching key of an `external_contact_id`: its NFC form. */
function idKey(id: string): string {
  return id.normalize('NFC');
}

/** Groups CHeKT contacts by {@link idKey} of `external_contact_id` ('' for contacts without one). */
function groupRemote(remote: readonly ChektContact[]): Map<string, ChektContact[]> {
  const out = new Map<string, ChektContact[]>();
  for (const c of remote) {
    const ext = idKey(c.externalContactId ?? '');
    const list = out.get(ext);
    if (list) list.push(c);
    else out.set(ext, [c]);
  }
  return out;
}

/** Of several CHeKT copies of one contact, keep the ledger's, else the oldest (lowest numeric `contact_id`). */
function pickKept(copies: readonly ChektContact[], ledgerContactId: string | null): ChektContact | undefined {
  const byLedger = copies.find((c) => c.contactId === ledgerContactId);
  if (byLedger) return byLedger;
  return [...copies].sort((a, b) => compareContactIds(a.contactId, b.contactId))[0];
}

/** Totals of a set of site plans, for run records and summaries. */
export interface PlanTotals {
  sites: number;
  creates: number;
  updates: number;
  deletes: number;
  unchanged: number;
  adopted: number;
  invalid: number;
  warnings: number;
  unmanaged: number;
}

/** Sums {@link SitePlan}s. */
export function planTotals(plans: readonly SitePlan[]): PlanTotals {
  const t: PlanTotals = { sites: plans.length, creates: 0, updates: 0, deletes: 0, unchanged: 0, adopted: 0, invalid: 0, warnings: 0, unmanaged: 0 };
  for (const p of plans) {
    for (const o of p.operations) t[o.kind === 'create' ? 'creates' : o.kind === 'update' ? 'updates' : 'deletes'] += 1;
    t.unchanged += p.unchanged;
    t.adopted += p.adoptions.length;
    t.invalid += p.skipped.length;
    t.warnings += p.warnings.length;
    t.unmanaged += p.unmanaged;
  }
  return t;
}
