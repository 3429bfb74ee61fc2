import { generateDemoData, generateDemoEdits, type DemoContact, type DemoDataset, type DemoEdits } from '../demo/data.js';
import { contentHash, prepareContact, type CrmContact, type NormalizeRules } from '../../src/domain/contact.js';
import type { PrismaClient } from '../../src/source/db.js';

/**
 * Bench data: the demo's deterministic multi-locale CRM (tools/demo/data.ts: accents, Hangul, kanji, invalid
 * phones and e-mails, about 1 % skipped contacts), seeded into an environment's CRM tables; edits applied to
 * the CRM the way a partner's CRM writes them; and the ideal number of CHeKT writes between two states.
 */

/** A CRM data set (sites and live contacts). */
export type BenchData = DemoDataset;

/** Generates `contacts` contacts on `sites` sites over 12 dealers (seed fixed, so every run seeds the same data). */
export function makeData(sites: number, contacts: number, seed = 2026): BenchData {
  return generateDemoData({ sites, contacts, dealers: 12, seed });
}

/** Inserts the data set into the CRM tables (`createMany`, 5,000 rows per statement). */
export async function seedCrm(db: PrismaClient, data: BenchData): Promise<void> {
  await db.site.createMany({ data: data.sites });
  for (let i = 0; i < data.contacts.length; i += 5000) {
    await db.contact.createMany({ data: data.contacts.slice(i, i + 5000) });
  }
}

/**
 * Edits touching `share` of the contacts (0.01 = 1 %): 60 % updates, 20 % soft deletes, 20 % additions,
 * at least one of each. Soft-deleted contacts are on distinct sites, so no site reaches the deletion-hold
 * threshold (`DELETE_HOLD_MIN_DELETES`, default 2): the bench measures throughput, not holds.
 */
export function makeEdits(data: BenchData, share: number, seed = 7): DemoEdits {
  const total = Math.max(3, Math.round(data.contacts.length * share));
  const deletes = Math.max(1, Math.round(total * 0.2));
  const additions = Math.max(1, Math.round(total * 0.2));
  const edits = generateDemoEdits(data, { seed, updates: total - deletes - additions, softDeletes: deletes * 3, additions });
  const bySite = new Map(data.contacts.map((c) => [c.id, c.siteId]));
  const seen = new Set<string>();
  const softDeletes = edits.softDeletes.filter((id) => {
    const site = bySite.get(id) ?? '';
    if (seen.has(site) || seen.size >= deletes) return false;
    seen.add(site);
    return true;
  });
  return { ...edits, softDeletes };
}

/** Number of contacts an edit set touches. */
export function editCount(e: DemoEdits): number {
  return e.updates.length + e.softDeletes.length + e.additions.length;
}

/** Writes the edits to the CRM: one statement per update, one for the soft deletes, one for the additions. */
export async function applyEdits(db: PrismaClient, e: DemoEdits, now: Date): Promise<void> {
  for (const c of e.updates) {
    await db.contact.updateMany({ where: { id: c.id }, data: { firstName: c.firstName, lastName: c.lastName, phoneNumber: c.phoneNumber, email: c.email, updatedAt: now } });
  }
  await db.contact.updateMany({ where: { id: { in: e.softDeletes } }, data: { deletedAt: now, updatedAt: now } });
  await db.contact.createMany({ data: e.additions });
}

/** The data set after the edits (soft-deleted contacts removed). */
export function withEdits(data: BenchData, e: DemoEdits): BenchData {
  const updated = new Map(e.updates.map((c) => [c.id, c]));
  const deleted = new Set(e.softDeletes);
  const contacts = data.contacts.filter((c) => !deleted.has(c.id)).map((c) => updated.get(c.id) ?? c);
  return { sites: data.sites, contacts: [...contacts, ...e.additions] };
}

/**
 * The fewest CHeKT writes that take CHeKT from `before` to `after` (the "ideal calls"): one create per valid
 * contact that appears, one delete per synced contact that disappears, one update per contact whose normalised
 * values change. A contact that becomes invalid is left as it is in CHeKT (docs/SAFETY.md "Data rules"), so it costs
 * nothing. Sites with sync disabled cost nothing. `before` null means an empty CHeKT (first sync).
 */
export function idealWrites(before: BenchData | null, after: BenchData, rules: NormalizeRules): number {
  const enabled = new Set(after.sites.filter((s) => s.syncEnabled).map((s) => s.id));
  const hashes = (data: BenchData | null) => {
    const out = new Map<string, string | null>();
    for (const c of data?.contacts ?? []) {
      if (!enabled.has(c.siteId)) continue;
      const p = prepareContact(toCrm(c), rules);
      out.set(c.id, p.ok ? contentHash(p.contact) : null);
    }
    return out;
  };
  const b = hashes(before);
  const a = hashes(after);
  let writes = 0;
  for (const id of new Set([...b.keys(), ...a.keys()])) {
    const was = b.get(id) ?? null;
    const now = a.get(id);
    if (now === undefined)
      writes += was === null ? 0 : 1; // removed: delete what CHeKT holds
    else if (now !== null && now !== was) writes += 1; // created or changed (invalid now: left as it is)
  }
  return writes;
}

function toCrm({ siteId, ...c }: DemoContact): CrmContact {
  return { ...c, crmSiteId: siteId, deletedAt: null };
}
