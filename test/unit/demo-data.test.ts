import { isValidPhoneNumber } from 'libphonenumber-js';
import { isValidPhoneNumber as isValidPhoneNumberMax } from 'libphonenumber-js/max';
import { z } from 'zod';
import { demoSiteRegion, generateDemoData, generateDemoEdits, type DemoContact, type DemoDataset, type DemoSite } from '../../tools/demo/data.js';
import { GARBAGE_PHONES } from '../../tools/demo/phones.js';

// One generation per option set, shared by the read-only assertions below (each takes ~0.5 s).
const data = generateDemoData();
const edits = generateDemoEdits(data);
const siteById = new Map(data.sites.map((s) => [s.id, s]));

const blank = (s: string | null): boolean => s === null || s.trim() === '';
const nameOk = (s: string): boolean => /[\p{L}\p{N}\p{S}]/u.test(s.normalize('NFC').trim());
const emailOk = (s: string): boolean => z.email().safeParse(s.trim().toLowerCase()).success;

function siteOf(c: DemoContact): DemoSite {
  const site = siteById.get(c.siteId);
  if (!site) throw new Error(`contact ${c.id} points at unknown site ${c.siteId}`);
  return site;
}

/** The same rule as test/fixtures/awkward-contacts.json, except phones are read in the site's own region. */
function isValidContact(c: DemoContact): boolean {
  const phoneOk = blank(c.phoneNumber) || isValidPhoneNumber(c.phoneNumber ?? '', demoSiteRegion(siteOf(c)));
  return nameOk(c.firstName) && nameOk(c.lastName) && phoneOk && (blank(c.email) || emailOk(c.email ?? ''));
}

function share(predicate: (c: DemoContact) => boolean, of: readonly DemoContact[] = data.contacts): number {
  return of.filter(predicate).length / of.length;
}

describe('generateDemoData', () => {
  it('makes exactly the default counts, 1..6 contacts per site and about 2% sync-disabled sites', () => {
    expect(data.sites).toHaveLength(320);
    expect(data.contacts).toHaveLength(1100);
    const perSite = new Map<string, number>();
    for (const c of data.contacts) perSite.set(siteOf(c).id, (perSite.get(c.siteId) ?? 0) + 1);
    expect(perSite.size).toBe(320);
    for (const n of perSite.values()) expect(n >= 1 && n <= 6).toBe(true);
    expect(data.sites.filter((s) => !s.syncEnabled)).toHaveLength(6);
    expect(new Set(data.sites.map((s) => s.chektDealerId)).size).toBe(12);
  });

  it('honours custom sizes exactly and rejects impossible ones', () => {
    const small = generateDemoData({ seed: 1, sites: 10, contacts: 60, dealers: 3 });
    expect(small.sites).toHaveLength(10);
    expect(small.contacts).toHaveLength(60);
    expect(new Set(small.sites.map((s) => s.chektDealerId))).toEqual(new Set(['10001', '10002', '10003']));
    expect(() => generateDemoData({ sites: 10, contacts: 9 })).toThrow(RangeError);
    expect(() => generateDemoData({ sites: 10, contacts: 61 })).toThrow(RangeError);
    expect(() => generateDemoData({ sites: 1.5 })).toThrow(RangeError);
  });

  it('is deterministic: same seed deep-equal, another seed different', () => {
    expect(generateDemoData()).toEqual(data);
    expect(generateDemoData({ seed: 2026 })).toEqual(data);
    const other = generateDemoData({ seed: 7 });
    expect(other.contacts).toHaveLength(1100);
    expect(other).not.toEqual(data);
  });

  it('gives every sync-enabled site at least one valid contact', () => {
    for (const site of data.sites.filter((s) => s.syncEnabled)) {
      const contacts = data.contacts.filter((c) => c.siteId === site.id);
      expect(contacts.some(isValidContact)).toBe(true);
    }
  });

  it('uses unique ids without ":" in the documented shapes', () => {
    const ids = data.contacts.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^(crm-\d{6}|CRM\/\d{4}\/\d{5,}|legacy\.b-\d+_[a-z])$/);
    expect(ids.filter((id) => !id.startsWith('crm-')).length).toBeGreaterThan(5);
    expect(new Set(data.sites.map((s) => s.id)).size).toBe(320);
    for (const s of data.sites) {
      expect(s.id).toMatch(/^site-\d{4}$/);
      expect(s.chektDealerId).toMatch(/^\d+$/);
      expect(s.chektSiteId).toMatch(/^\d+$/);
    }
    const keys = data.sites.map((s) => `${s.chektDealerId}/${s.chektSiteId}`);
    expect(new Set(keys).size).toBe(keys.length);
    // Site numbers are unique per dealer only: the same chekt_site_id under two dealers must stay two sites.
    expect(new Set(data.sites.map((s) => s.chektSiteId)).size).toBeLessThan(data.sites.length);
  });

  it('has names in many scripts, in NFD, with stray whitespace, and a couple of 60+ characters', () => {
    const names = data.contacts.map((c) => `${c.firstName} ${c.lastName}`);
    for (const script of [/\p{Script=Hangul}/u, /\p{Script=Han}/u, /\p{Script=Arabic}/u, /\p{Script=Cyrillic}/u]) {
      expect(names.some((n) => script.test(n))).toBe(true);
    }
    expect(names.some((n) => /[À-ž]/u.test(n))).toBe(true);
    expect(names.some((n) => n !== n.normalize('NFC'))).toBe(true);
    expect(names.some((n) => n.includes('\u00a0') || n.includes('\t') || n.includes('  '))).toBe(true);
    expect(data.contacts.filter((c) => c.lastName.trim().length >= 60).length).toBeGreaterThanOrEqual(2);
  });

  it('writes phones valid in the site region (min and max metadata), mixed styles, ~10% null, some blank', () => {
    expect(share((c) => c.phoneNumber === null)).toBeGreaterThan(0.06);
    expect(share((c) => c.phoneNumber === null)).toBeLessThan(0.14);
    const present = data.contacts.filter((c) => !blank(c.phoneNumber));
    for (const c of present) {
      const phone = c.phoneNumber ?? '';
      if (GARBAGE_PHONES.includes(phone)) continue;
      const region = demoSiteRegion(siteOf(c));
      const valid = isValidPhoneNumber(phone, region) && isValidPhoneNumberMax(phone, region);
      expect({ phone, valid }).toEqual({ phone, valid: true });
    }
    const phones = present.map((c) => c.phoneNumber ?? '');
    expect(data.contacts.some((c) => c.phoneNumber !== null && blank(c.phoneNumber))).toBe(true);
    expect(phones.some((p) => p.startsWith('+'))).toBe(true);
    expect(phones.some((p) => p.startsWith('00'))).toBe(true);
    expect(phones.some((p) => /^\d+$/.test(p))).toBe(true);
    expect(phones.some((p) => /^\(\d{3}\) \d{3}-\d{4}$/.test(p))).toBe(true);
    expect(phones.some((p) => /^\d{3}\.\d{3}\.\d{4}$/.test(p))).toBe(true);
    expect(phones.some((p) => /^0\d-\d{3,4}-\d{4}$/.test(p))).toBe(true); // KR national
    expect(phones.some((p) => / (x|ext\.?|#) ?\d+$/.test(p))).toBe(true);
  });

  it('writes emails mostly valid (some upper-case or padded), about 10% null and a few invalid', () => {
    expect(share((c) => c.email === null)).toBeGreaterThan(0.06);
    expect(share((c) => c.email === null)).toBeLessThan(0.14);
    const present = data.contacts.flatMap((c) => (c.email === null ? [] : [c.email]));
    const invalid = present.filter((e) => !emailOk(e));
    expect(invalid.length).toBeGreaterThanOrEqual(5);
    expect(invalid.length / present.length).toBeLessThan(0.03);
    expect(new Set(invalid).size).toBeGreaterThanOrEqual(3);
    expect(present.some((e) => e !== e.trim())).toBe(true);
    expect(present.some((e) => /@.*[A-Z]/.test(e))).toBe(true);
  });

  it('includes about 1% deliberately invalid contacts (blank first name or garbage phone)', () => {
    const broken = share((c) => !nameOk(c.firstName) || GARBAGE_PHONES.includes(c.phoneNumber ?? ''));
    expect(broken).toBeGreaterThanOrEqual(0.005);
    expect(broken).toBeLessThanOrEqual(0.02);
    for (const c of data.contacts.filter((x) => GARBAGE_PHONES.includes(x.phoneNumber ?? ''))) {
      expect(isValidContact(c)).toBe(false);
    }
    expect(data.contacts.filter((c) => !isValidContact(c)).length).toBe(23); // 6 blank names, 6 phones, 11 emails
  });
});

describe('generateDemoEdits', () => {
  const enabled = (c: DemoContact): boolean => siteOf(c).syncEnabled;
  const byId = new Map(data.contacts.map((c) => [c.id, c]));

  it('is deterministic and makes the default counts', () => {
    expect(generateDemoEdits(data)).toEqual(edits);
    expect(generateDemoEdits(data, { seed: 9 })).not.toEqual(edits);
    expect(edits.updates).toHaveLength(60);
    expect(edits.softDeletes).toHaveLength(25);
    expect(edits.additions).toHaveLength(40);
  });

  it('updates change phone, email and/or last name of contacts on sync-enabled sites only', () => {
    expect(new Set(edits.updates.map((c) => c.id)).size).toBe(60);
    for (const u of edits.updates) {
      const before = byId.get(u.id);
      expect(before).toBeDefined();
      if (!before) continue;
      expect(enabled(before)).toBe(true);
      const unchanged = (c: DemoContact) => ({ id: c.id, siteId: c.siteId, firstName: c.firstName });
      expect(unchanged(u)).toEqual(unchanged(before));
      expect(u).not.toEqual(before);
      expect(isValidContact(u) || !isValidContact(before)).toBe(true);
    }
  });

  it('soft-deletes never empty a site nor touch updated contacts', () => {
    expect(new Set(edits.softDeletes).size).toBe(25);
    const updated = new Set(edits.updates.map((c) => c.id));
    for (const id of edits.softDeletes) {
      const c = byId.get(id);
      expect(c && enabled(c)).toBe(true);
      expect(updated.has(id)).toBe(false);
    }
    const after = applyEdits(data, edits);
    for (const site of data.sites.filter((s) => s.syncEnabled)) {
      const live = after.contacts.filter((c) => c.siteId === site.id);
      expect(live.some(isValidContact)).toBe(true);
    }
  });

  it('adds valid contacts with new unique ids on sync-enabled sites', () => {
    const ids = edits.additions.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of edits.additions) {
      expect(byId.has(c.id)).toBe(false);
      expect(c.id).not.toContain(':');
      expect(enabled(c)).toBe(true);
      expect(isValidContact(c)).toBe(true);
    }
  });

  it('rejects requests larger than the candidates', () => {
    expect(() => generateDemoEdits(data, { softDeletes: 5000 })).toThrow(RangeError);
  });
});

function applyEdits(before: DemoDataset, e: ReturnType<typeof generateDemoEdits>): DemoDataset {
  const deleted = new Set(e.softDeletes);
  const updates = new Map(e.updates.map((c) => [c.id, c]));
  const contacts = before.contacts.filter((c) => !deleted.has(c.id)).map((c) => updates.get(c.id) ?? c);
  return { sites: before.sites, contacts: [...contacts, ...e.additions] };
}
