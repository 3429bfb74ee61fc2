import type { ChektContact } from '../../src/domain/chektContact.js';
import { changedFields, prepareContact, remoteKeys, type CrmContact, type NormalizeRules } from '../../src/domain/contact.js';

/**
 * Checks that CHeKT holds exactly the CRM's desired contacts: for every enabled site, one CHeKT contact per
 * valid live CRM contact (by `external_contact_id`), with equal normalised fields, and nothing else except
 * the unmanaged contacts listed in `allowedExtra`. Pure.
 */
export interface SiteState {
  readonly ref: string;
  readonly desired: readonly CrmContact[];
  readonly remote: readonly ChektContact[];
}

/** One mismatch, described without personal data. */
export interface Mismatch {
  readonly site: string;
  readonly externalContactId: string;
  readonly problem: string;
}

/** Lists every difference between the CRM and CHeKT for the given sites. */
export function compareSites(sites: readonly SiteState[], rules: NormalizeRules): Mismatch[] {
  const out: Mismatch[] = [];
  for (const s of sites) {
    const byExt = new Map<string, ChektContact[]>();
    for (const r of s.remote) byExt.set(r.externalContactId ?? '', [...(byExt.get(r.externalContactId ?? '') ?? []), r]);
    const wanted = new Set<string>();
    for (const c of s.desired) {
      const p = prepareContact(c, rules);
      const copies = byExt.get(c.id) ?? [];
      if (!p.ok) continue; // invalid contacts are reported by the run, not synced
      wanted.add(c.id);
      if (copies.length === 0) out.push({ site: s.ref, externalContactId: c.id, problem: 'missing in CHeKT' });
      else if (copies.length > 1) out.push({ site: s.ref, externalContactId: c.id, problem: `${copies.length} copies in CHeKT` });
      else {
        const fields = changedFields(p.contact, remoteKeys(copies[0]!, rules));
        if (fields.length > 0) out.push({ site: s.ref, externalContactId: c.id, problem: `differs in ${fields.join(', ')}` });
      }
    }
    const invalid = new Set(s.desired.map((c) => c.id));
    for (const [ext] of byExt) {
      if (!wanted.has(ext) && !invalid.has(ext)) out.push({ site: s.ref, externalContactId: ext, problem: 'in CHeKT but not a live CRM contact' });
    }
  }
  return out;
}
