import { expect } from '@jest/globals';
import { mulberry32 } from '../../../src/sandbox/faults.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Sandbox, SandboxContact } from '../../../src/sandbox/server.js';
import type { PrismaClient } from '../../../src/source/db.js';
import type { SeedContact, SeedSite } from './harness.js';

/**
 * Helpers of the fault tests (faults-*.test.ts): deterministic CRM data with awkward values, an independent
 * statement of what CHeKT must hold for a CRM row, and a comparison of the sandbox against the CRM tables (and its
 * assertion, {@link expectConverged}).
 *
 * The expectation is written here again on purpose rather than imported from src/domain: a test that used the
 * code under test to compute its expectation could not catch a normalisation bug. It covers only the values
 * {@link generateCrm} and {@link editSample} produce (PHONE_FORMAT=E164, PHONE_DEFAULT_REGION=US).
 */

/** Sites and contacts for {@link seedCrm} (or plain inserts in a process fixture). */
export interface CrmData {
  readonly sites: SeedSite[];
  readonly contacts: SeedContact[];
}

/**
 * `contacts` contacts over `sites` sites (dealers of 12 sites each; contact `i` on site `i % sites`), cycling
 * through awkward spellings: padded and doubled white space, tabs, NBSP and ideographic spaces, decomposed
 * accents (NFD), a zero-width space, Hangul, kanji, Cyrillic and Arabic names, national, dotted and foreign
 * phones, an extension, upper-case emails, missing values, an invalid phone and email (dropped fields), and
 * ids with `/`, `:`, `%` and non-ASCII letters. Every 97th contact has a blank first name: it is skipped.
 */
export function generateCrm(options: { sites: number; contacts: number; idPrefix?: string }): CrmData {
  const p = options.idPrefix ?? 'c';
  const sites: SeedSite[] = Array.from({ length: options.sites }, (_, s) => ({
    id: `site-${s}`,
    dealerId: String(5000 + Math.floor(s / 12)),
    siteId: String(100 + s),
  }));
  const contacts: SeedContact[] = [];
  for (let i = 0; i < options.contacts; i++) {
    const line = String(1000 + (i % 9000)).padStart(4, '0');
    const id = i % 50 === 3 ? `${p}/ü-${i}` : i % 50 === 7 ? `${p}:x%${i}` : `${p}-${i}`;
    const siteId = `site-${i % options.sites}`;
    const v = variant(i, line);
    contacts.push({ id, siteId, ...v, ...(i % 97 === 96 ? { firstName: ' \t ' } : {}) });
  }
  return { sites, contacts };
}

function variant(i: number, line: string): Omit<SeedContact, 'id' | 'siteId'> {
  switch (i % 10) {
    case 0:
      return { firstName: 'Ada', lastName: `Lovelace ${i}`, phoneNumber: `+1 212 736 ${line}`, email: `ada.${i}@example.com` };
    case 1:
      return { firstName: '  Grace ', lastName: `  Hopper   ${i} `, phoneNumber: `(212) 736-${line}`, email: ` GRACE.${i}@Example.COM ` };
    case 2:
      return { firstName: 'Jose\u0301', lastName: `Van\u00A0Dyke\t${i}`, phoneNumber: `212.736.${line}`, email: null };
    case 3:
      return { firstName: '민준', lastName: `김 ${i}`, phoneNumber: `+82 10-2345-${line}`, email: `minjun.${i}@example.kr` };
    case 4:
      return { firstName: 'Анна', lastName: `Каренина ${i}`, phoneNumber: null, email: `anna.${i}@example.ru` };
    case 5:
      return { firstName: 'Ann\u200Ba', lastName: `O'Brien-${i}`, phoneNumber: '12345', email: 'not-an-email' };
    case 6:
      return { firstName: '太郎', lastName: `山田\u3000${i}`, phoneNumber: `+81 3-1234-${line}`, email: `taro.${i}@example.jp` };
    case 7:
      return { firstName: 'محمد', lastName: `علي ${i}`, phoneNumber: `+1 212 736 ${line} ext. 12`, email: `m.${i}@example.com` };
    case 8:
      return { firstName: 'Zoë', lastName: `Ñúñez ${i}`, phoneNumber: `+33 1 42 68 ${line.slice(0, 2)} ${line.slice(2)}`, email: `zoe.${i}@example.fr` };
    default:
      return { firstName: 'Kai', lastName: `Berg ${i}`, phoneNumber: `212-736-${line}`, email: '' };
  }
}

/**
 * Picks `editShare` of the live contacts to edit (new last name, phone written another way with a new
 * number, email cleared or changed) and `deleteShare` others to soft-delete, deterministically from `seed`.
 * At most one delete per site, so no site drops below its minimum. Returns the ids touched.
 */
export async function editSample(db: PrismaClient, options: { seed: number; editShare: number; deleteShare: number }): Promise<{ edited: string[]; deleted: string[] }> {
  const rows = await db.contact.findMany({ where: { deletedAt: null }, orderBy: { id: 'asc' } });
  const valid = rows.filter((r) => expectedOf(r) !== null);
  const random = mulberry32(options.seed);
  const shuffled = valid
    .map((r) => ({ r, k: random() }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.r);
  const nEdit = Math.round(valid.length * options.editShare);
  const nDelete = Math.round(valid.length * options.deleteShare);
  const edited = shuffled.slice(0, nEdit);
  const deleted: typeof rows = [];
  const sitesWithDelete = new Set<string>();
  for (const r of shuffled.slice(nEdit)) {
    if (deleted.length >= nDelete) break;
    if (sitesWithDelete.has(r.siteId)) continue;
    sitesWithDelete.add(r.siteId);
    deleted.push(r);
  }
  for (const [n, r] of edited.entries()) {
    await db.contact.updateMany({
      where: { id: r.id },
      data: {
        lastName: `  Edited\u00A0${n}  `,
        phoneNumber: `(646) 736-${String(2000 + n).padStart(4, '0')}`,
        email: n % 3 === 0 ? null : `EDITED.${n}@Example.org`,
        updatedAt: new Date(),
      },
    });
  }
  if (deleted.length > 0) {
    await db.contact.updateMany({ where: { id: { in: deleted.map((r) => r.id) } }, data: { deletedAt: new Date(), updatedAt: new Date() } });
  }
  return { edited: edited.map((r) => r.id), deleted: deleted.map((r) => r.id) };
}

/** What CHeKT must hold for one CRM contact; a dropped (invalid) phone or email is expected absent (null). */
export interface ExpectedContact {
  readonly firstName: string;
  readonly lastName: string;
  /** Exactly as sent: E.164, without any extension (an SMS cannot dial one; docs/REACHABILITY.md). */
  readonly phone: string | null;
  /** Lower-cased (emails compare without case; CHeKT keeps the sent case). */
  readonly email: string | null;
}

const INVISIBLE = /[\u200B\u200C\u200E\u200F\u2060\uFEFF\u00AD]/g;

function text(v: string | null): string | null {
  if (v === null) return null;
  const t = v.replace(INVISIBLE, '').normalize('NFC').replace(/\s+/g, ' ').trim();
  return t === '' ? null : t;
}

/** The expectation for a CRM row, or null when the contact must not be in CHeKT (its name is blank). */
export function expectedOf(row: { firstName: string; lastName: string; phoneNumber: string | null; email: string | null }): ExpectedContact | null {
  const firstName = text(row.firstName);
  const lastName = text(row.lastName);
  if (firstName === null || lastName === null) return null;
  const rawPhone = text(row.phoneNumber);
  const parsed = rawPhone === null ? undefined : parsePhoneNumberFromString(rawPhone, { defaultCountry: 'US' });
  const phone = parsed?.isValid() ? parsed.number : null;
  const rawEmail = text(row.email);
  const email = rawEmail !== null && /^[^\s@]+@[^\s@]+\.[A-Za-z]{2,}$/.test(rawEmail) ? rawEmail.toLowerCase() : null;
  return { firstName, lastName, phone, email };
}

/** Result of {@link compareWithCrm}. */
export interface Comparison {
  /** Live CRM contacts with a valid name on enabled sites (what CHeKT must hold). */
  readonly expected: number;
  /** Contacts in the sandbox over those sites. */
  readonly inChekt: number;
  /** One line per difference: `dealer/site ext: problem`. */
  readonly mismatches: string[];
  /** `dealer/site ext xN` for every external_contact_id held more than once on a site. */
  readonly duplicates: string[];
}

/** Compares every enabled CRM site with the sandbox: fields, missing and extra contacts, duplicates. */
export async function compareWithCrm(db: PrismaClient, sandbox: Sandbox): Promise<Comparison> {
  const sites = await db.site.findMany({ where: { syncEnabled: true }, include: { contacts: true } });
  const mismatches: string[] = [];
  const duplicates: string[] = [];
  let expected = 0;
  let inChekt = 0;
  for (const site of sites) {
    const ref = `${site.chektDealerId}/${site.chektSiteId}`;
    const remote = sandbox.contacts(site.chektDealerId, site.chektSiteId);
    inChekt += remote.length;
    const byExt = new Map<string, SandboxContact[]>();
    for (const c of remote) byExt.set(c.external_contact_id, [...(byExt.get(c.external_contact_id) ?? []), c]);
    for (const [ext, copies] of byExt) if (copies.length > 1) duplicates.push(`${ref} ${ext} x${copies.length}`);
    const wanted = new Set<string>();
    for (const row of site.contacts) {
      const want = row.deletedAt === null ? expectedOf(row) : null;
      if (want === null) continue;
      expected += 1;
      wanted.add(row.id);
      const got = byExt.get(row.id)?.[0];
      if (!got) {
        mismatches.push(`${ref} ${row.id}: missing in CHeKT`);
        continue;
      }
      const have = { firstName: got.first_name, lastName: got.last_name, phone: got.phone_number, email: got.email?.toLowerCase() ?? null };
      for (const k of ['firstName', 'lastName', 'phone', 'email'] as const) {
        if ((have[k] ?? null) !== want[k]) mismatches.push(`${ref} ${row.id}: ${k} is ${JSON.stringify(have[k])}, expected ${JSON.stringify(want[k])}`);
      }
    }
    for (const ext of byExt.keys()) if (!wanted.has(ext)) mismatches.push(`${ref} ${ext}: in CHeKT but not a live valid CRM contact`);
  }
  return { expected, inChekt, mismatches, duplicates };
}

/**
 * CHeKT equals the CRM ({@link compareWithCrm}): no duplicate, no mismatch, and as many contacts in CHeKT as the
 * CRM has valid ones; `valid`, when given, is that number.
 */
export async function expectConverged(h: { app: { db: PrismaClient }; sandbox: Sandbox }, valid?: number): Promise<void> {
  const cmp = await compareWithCrm(h.app.db, h.sandbox);
  expect(cmp.duplicates).toEqual([]);
  expect(cmp.mismatches).toEqual([]);
  if (valid === undefined) {
    expect(cmp.inChekt).toBe(cmp.expected);
  } else {
    expect(cmp.expected).toBe(valid);
    expect(cmp.inChekt).toBe(valid);
  }
}

/**
 * Polls `check` every `intervalMs` (default 100) until it returns a truthy value, and returns it.
 * @throws {Error} naming `what` when `timeoutMs` passes first.
 */
export async function pollUntil<T>(what: string, check: () => T | Promise<T>, options: { timeoutMs: number; intervalMs?: number }): Promise<NonNullable<T>> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
    await sleep(options.intervalMs ?? 100);
  }
}

/** Writes to CHeKT that committed (2xx, or 0 = answer dropped after commit), per method, from the request log. */
export function committedWrites(sandbox: Sandbox): { POST: number; PUT: string[]; DELETE: string[] } {
  const out = { POST: 0, PUT: [] as string[], DELETE: [] as string[] };
  for (const r of sandbox.requests()) {
    if (!r.route.includes('/contacts')) continue;
    const committed = r.status === 0 || (r.status >= 200 && r.status < 300);
    if (!committed) continue;
    if (r.method === 'POST') out.POST += 1;
    else if (r.method === 'PUT') out.PUT.push(r.path);
    else if (r.method === 'DELETE') out.DELETE.push(r.path);
  }
  return out;
}
