import type { Faker } from '@faker-js/faker';
import { BLANK_NAMES, INVALID_EMAILS, NAME_LOCALES, blemishName, createDemoFakers, demoEmail, longLastName, personName, type DemoFakers } from './names.js';
import { BLANK_PHONES, GARBAGE_PHONES, NON_SMS_PHONES, REGION_LOCALE, demoPhone, samePhone, type DemoRegion } from './phones.js';

/**
 * A deterministic, realistic-looking CRM data set for the demo and for tests: pure (no I/O, no clock, no
 * Math.random), every choice drawn from seeded faker instances, so the same options always give deep-equal
 * output. Shapes mirror the CRM tables `sites` and `contacts` (prisma/schema.prisma).
 */

/** A row of the CRM `sites` table. */
export interface DemoSite {
  /** CRM id, `site-0001`, `site-0002`, ... */
  id: string;
  /** CHeKT dealer id: numeric string, `10001`, `10002`, ... */
  chektDealerId: string;
  /** CHeKT site id: numeric string, unique per dealer (the same number recurs under other dealers on purpose). */
  chektSiteId: string;
  name: string;
  syncEnabled: boolean;
}

/** A live row of the CRM `contacts` table; `id` is what the sync sends as `external_contact_id`. */
export interface DemoContact {
  id: string;
  siteId: string;
  firstName: string;
  lastName: string;
  phoneNumber: string | null;
  email: string | null;
}

/** Sites and their contacts, in site order then contact order. */
export interface DemoDataset {
  sites: DemoSite[];
  contacts: DemoContact[];
}

/** Options of {@link generateDemoData}; every count is a whole number. */
export interface DemoDataOptions {
  /** Default 2026. */
  seed?: number;
  /** Number of sites, at least 1. Default 320. */
  sites?: number;
  /** Total contacts, between `sites` and 6 × `sites` (each site gets 1..6). Default 1100. */
  contacts?: number;
  /** Number of CHeKT dealers the sites are spread over, at least 1. Default 12. */
  dealers?: number;
}

/** Changes to apply to a {@link DemoDataset} between two demo sync passes. */
export interface DemoEdits {
  /** Changed copies of existing contacts (new phone, e-mail and/or last name), all on sync-enabled sites. */
  updates: DemoContact[];
  /** Ids of contacts to soft-delete (`deleted_at` set); never a site's first contact, so no site goes empty. */
  softDeletes: string[];
  /** New contacts on sync-enabled sites, with ids not used in the data set. */
  additions: DemoContact[];
}

/** Options of {@link generateDemoEdits}. */
export interface DemoEditsOptions {
  /** Default 2026 (drawn from a stream distinct from the data set's). */
  seed?: number;
  /** Default 60. */
  updates?: number;
  /** Default 25. */
  softDeletes?: number;
  /** Default 40. */
  additions?: number;
}

const DEFAULT_SEED = 2026;
const EDITS_SEED_OFFSET = 1_000_003;
const MAX_CONTACTS_PER_SITE = 6;
const FIRST_DEALER_ID = 10001;
/** Dealer n (0-based) operates in DEALER_REGIONS[n mod 12]; see {@link demoSiteRegion}. */
const DEALER_REGIONS: readonly DemoRegion[] = ['US', 'KR', 'DE', 'US', 'FR', 'JP', 'US', 'MX', 'BR', 'RU', 'CN', 'SA'];

/**
 * The country of a demo site, which its phone numbers are valid for. The CRM has no country column, so the
 * demo derives it from the dealer: dealer `10001` is US, `10002` KR, `10003` DE, ... (cycling every 12).
 * Unknown dealer ids give `US`.
 */
export function demoSiteRegion(site: Pick<DemoSite, 'chektDealerId'>): DemoRegion {
  const n = Number(site.chektDealerId) - FIRST_DEALER_ID;
  return (Number.isSafeInteger(n) && n >= 0 ? DEALER_REGIONS[n % DEALER_REGIONS.length] : undefined) ?? 'US';
}

/**
 * Generates the demo CRM: `sites` sites over `dealers` dealers (about 2% with sync disabled) and exactly
 * `contacts` contacts, 1..6 per site. Names come from 15 faker locales (Latin with accents, Hangul, kanji and
 * kana, Han, Arabic, Cyrillic, Greek, Hebrew, Thai); phones are valid for the site's region
 * ({@link demoSiteRegion}) in mixed styles, about 10% null; e-mails use reserved domains, about 10% null.
 * Deliberate mess: blemished names (whitespace, NBSP, NFD), two 60+ character surnames, blank phones, and
 * about 1% invalid contacts (blank first name or a phone like "call me maybe") plus about 1% invalid e-mails.
 * The first contact of every sync-enabled site is never one of the deliberately broken ones.
 * @throws {RangeError} if a count is not a whole number or `contacts` is outside [`sites`, 6 × `sites`].
 */
export function generateDemoData(options: DemoDataOptions = {}): DemoDataset {
  const opts = resolveDataOptions(options);
  const fakers = createDemoFakers(opts.seed);
  const { rng } = fakers;
  const sites = makeSites(fakers, opts.sites, opts.dealers);
  const perSite = contactsPerSite(rng, sites.length, opts.contacts);

  const slots: Array<{ site: DemoSite; anchor: boolean }> = [];
  sites.forEach((site, s) => {
    for (let k = 0; k < (perSite[s] ?? 1); k++) slots.push({ site, anchor: k === 0 && site.syncEnabled });
  });
  const specials = assignSpecials(
    rng,
    slots.flatMap((slot, i) => (slot.anchor ? [] : [i])),
    opts.contacts,
  );

  const contacts = slots.map((slot, i) => makeContact(fakers, slot.site, contactId(rng, i + 1), specials.get(i)));
  return { sites, contacts: withNonSmsPhones(sites, contacts) };
}

/**
 * Generates edits for `data`: `updates` changed copies of contacts on sync-enabled sites, `softDeletes`
 * other contacts of sync-enabled sites (never a site's first contact), and `additions` clean new contacts
 * on sync-enabled sites (filling sites below 6 live contacts first) with fresh `crm-NNNNNN` ids.
 * Updated and deleted contacts are disjoint. Deterministic for a given `data` and seed.
 * @throws {RangeError} if there are fewer candidates than requested, or no sync-enabled site for additions.
 */
export function generateDemoEdits(data: DemoDataset, options: DemoEditsOptions = {}): DemoEdits {
  const counts = {
    updates: options.updates ?? 60,
    softDeletes: options.softDeletes ?? 25,
    additions: options.additions ?? 40,
  };
  const fakers = createDemoFakers((options.seed ?? DEFAULT_SEED) + EDITS_SEED_OFFSET);
  const { rng } = fakers;
  const enabledSites = new Map(data.sites.filter((s) => s.syncEnabled).map((s) => [s.id, s]));
  const onEnabled = data.contacts.filter((c) => enabledSites.has(c.siteId));
  const firstOfSite = new Set<string>();
  const seenSites = new Set<string>();
  for (const c of onEnabled) {
    if (!seenSites.has(c.siteId)) firstOfSite.add(c.id);
    seenSites.add(c.siteId);
  }

  const updated = pick(rng, onEnabled, counts.updates, 'updates');
  const updatedIds = new Set(updated.map((c) => c.id));
  const deletable = onEnabled.filter((c) => !firstOfSite.has(c.id) && !updatedIds.has(c.id));
  const softDeletes = pick(rng, deletable, counts.softDeletes, 'softDeletes').map((c) => c.id);

  const live = new Map<string, number>();
  for (const c of onEnabled) live.set(c.siteId, (live.get(c.siteId) ?? 0) + 1);
  const deleted = new Set(softDeletes);
  for (const c of onEnabled) if (deleted.has(c.id)) live.set(c.siteId, (live.get(c.siteId) ?? 1) - 1);

  const taken = new Set(data.contacts.map((c) => c.id));
  let seq = data.contacts.length;
  const additions: DemoContact[] = [];
  for (let n = 0; n < counts.additions; n++) {
    const sites = [...enabledSites.values()];
    if (sites.length === 0) throw new RangeError('generateDemoEdits: no sync-enabled site to add contacts to');
    const roomy = sites.filter((s) => (live.get(s.id) ?? 0) < MAX_CONTACTS_PER_SITE);
    const site = rng.helpers.arrayElement(roomy.length > 0 ? roomy : sites);
    let id: string;
    do id = `crm-${String(++seq).padStart(6, '0')}`;
    while (taken.has(id));
    taken.add(id);
    live.set(site.id, (live.get(site.id) ?? 0) + 1);
    additions.push(makeContact(fakers, site, id, undefined));
  }

  const updates = updated.map((c) => changeContact(fakers, c, enabledSites.get(c.siteId)));
  return { updates, softDeletes, additions };
}

function resolveDataOptions(options: DemoDataOptions): Required<DemoDataOptions> {
  const opts = {
    seed: options.seed ?? DEFAULT_SEED,
    sites: options.sites ?? 320,
    contacts: options.contacts ?? 1100,
    dealers: options.dealers ?? 12,
  };
  for (const [name, value] of Object.entries(opts)) {
    if (!Number.isSafeInteger(value)) throw new RangeError(`generateDemoData: ${name} must be a whole number`);
  }
  if (opts.sites < 1 || opts.dealers < 1) throw new RangeError('generateDemoData: sites and dealers must be >= 1');
  if (opts.contacts < opts.sites || opts.contacts > opts.sites * MAX_CONTACTS_PER_SITE) {
    throw new RangeError(`generateDemoData: contacts must be between sites (${opts.sites}) and ${MAX_CONTACTS_PER_SITE} x sites`);
  }
  return opts;
}

function makeSites(fakers: DemoFakers, count: number, dealers: number): DemoSite[] {
  const { rng } = fakers;
  const disabled = new Set(rng.helpers.arrayElements(range(count), Math.round(count * 0.02)));
  const lastSiteNo = new Map<number, number>();
  return range(count).map((i) => {
    const dealer = i < dealers ? i : rng.number.int({ min: 0, max: dealers - 1 });
    // Every dealer numbers its sites from about 100, so the same chekt_site_id appears under several dealers.
    const previous = lastSiteNo.get(dealer) ?? 99 + rng.number.int({ min: 0, max: 20 });
    const siteNo = previous + rng.number.int({ min: 1, max: 3 });
    lastSiteNo.set(dealer, siteNo);
    const chektDealerId = String(FIRST_DEALER_ID + dealer);
    const f = fakers.byLocale[REGION_LOCALE[demoSiteRegion({ chektDealerId })]];
    return {
      id: `site-${String(i + 1).padStart(4, '0')}`,
      chektDealerId,
      chektSiteId: String(siteNo),
      name: `${f.company.name()}, ${f.location.city()}`,
      syncEnabled: !disabled.has(i),
    };
  });
}

/** 1..6 contacts per site summing to `total`: every site starts at 1, the rest go one by one to random sites. */
function contactsPerSite(rng: Faker, sites: number, total: number): number[] {
  const counts = range(sites).map(() => 1);
  const open = range(sites);
  for (let left = total - sites; left > 0; left--) {
    const at = rng.number.int({ min: 0, max: open.length - 1 });
    const site = open[at] ?? 0;
    const next = (counts[site] ?? 1) + 1;
    counts[site] = next;
    if (next === MAX_CONTACTS_PER_SITE) open.splice(at, 1);
  }
  return counts;
}

/**
 * Reachability (docs/REACHABILITY.md): every {@link UNREACHABLE_EVERY}th sync-enabled site gets only numbers that
 * cannot receive an SMS, so the demo has unreachable sites to report; about 1% of the other contacts (never a
 * site's first) get one too. Chosen by position, with no draw from the generator, so the rest of the data is
 * the same as without them.
 */
function withNonSmsPhones(sites: readonly DemoSite[], contacts: DemoContact[]): DemoContact[] {
  const enabled = sites.filter((s) => s.syncEnabled);
  const unreachable = new Set(enabled.filter((_, i) => i % UNREACHABLE_EVERY === UNREACHABLE_EVERY - 1).map((s) => s.id));
  const seen = new Set<string>();
  return contacts.map((c, i) => {
    const first = !seen.has(c.siteId);
    seen.add(c.siteId);
    // Missing, blank and garbage phones stay as they are (they cannot be texted either, and count as invalid).
    const valid = c.phoneNumber !== null && !GARBAGE_PHONES.includes(c.phoneNumber) && !BLANK_PHONES.includes(c.phoneNumber);
    if (valid && (unreachable.has(c.siteId) || (!first && i % 97 === 13))) return { ...c, phoneNumber: NON_SMS_PHONES[i % NON_SMS_PHONES.length]! };
    return c;
  });
}

/** One sync-enabled site in this many has only non-SMS numbers. */
const UNREACHABLE_EVERY = 100;

type Special = 'longName' | 'blankFirstName' | 'garbagePhone' | 'blankPhone' | 'invalidEmail';

/** Spreads the deliberately odd contacts over `eligible` slot indices (never a sync-enabled site's first). */
function assignSpecials(rng: Faker, eligible: number[], total: number): Map<number, Special> {
  const wanted: Array<[Special, number]> = [
    ['longName', 2],
    ['blankFirstName', Math.ceil(total * 0.005)],
    ['garbagePhone', Math.ceil(total * 0.005)],
    ['blankPhone', Math.ceil(total * 0.004)],
    ['invalidEmail', Math.ceil(total * 0.01)],
  ];
  const order = rng.helpers.shuffle(eligible);
  const specials = new Map<number, Special>();
  let next = 0;
  for (const [kind, count] of wanted) {
    for (let n = 0; n < count && next < order.length; n++) specials.set(order[next++] ?? -1, kind);
  }
  return specials;
}

function makeContact(fakers: DemoFakers, site: DemoSite, id: string, special: Special | undefined): DemoContact {
  const { rng } = fakers;
  const region = demoSiteRegion(site);
  const local = rng.datatype.boolean({ probability: 0.75 });
  const locale = local ? REGION_LOCALE[region] : rng.helpers.arrayElement(NAME_LOCALES);
  const f = fakers.byLocale[locale];
  const name = personName(f);
  const email = special === 'invalidEmail' ? rng.helpers.arrayElement(INVALID_EMAILS) : rng.datatype.boolean({ probability: 0.1 }) ? null : demoEmail(f, rng, name.firstName, name.lastName);
  const lastName = special === 'longName' ? longLastName(f) : name.lastName;
  const phoneNumber =
    special === 'garbagePhone'
      ? rng.helpers.arrayElement(GARBAGE_PHONES)
      : special === 'blankPhone'
        ? rng.helpers.arrayElement(BLANK_PHONES)
        : rng.datatype.boolean({ probability: 0.1 })
          ? null
          : demoPhone(rng, region);
  return {
    id,
    siteId: site.id,
    firstName: special === 'blankFirstName' ? rng.helpers.arrayElement(BLANK_NAMES) : blemishName(rng, name.firstName),
    lastName: blemishName(rng, lastName),
    phoneNumber,
    email,
  };
}

/** Mostly `crm-000001`; about 4% in legacy shapes with `/`, `.` and `_` (never `:`, which BullMQ job ids forbid). */
function contactId(rng: Faker, seq: number): string {
  const shape = rng.helpers.weightedArrayElement([
    { weight: 96, value: 'plain' },
    { weight: 2, value: 'slashed' },
    { weight: 2, value: 'dotted' },
  ] as const);
  if (shape === 'slashed') return `CRM/${2019 + (seq % 6)}/${String(seq).padStart(5, '0')}`;
  if (shape === 'dotted') return `legacy.b-${seq}_${rng.string.alpha({ length: 1, casing: 'lower' })}`;
  return `crm-${String(seq).padStart(6, '0')}`;
}

/** A copy of `c` with a new phone, e-mail and/or last name, each guaranteed to differ from the old value. */
function changeContact(fakers: DemoFakers, c: DemoContact, site: DemoSite | undefined): DemoContact {
  const { rng } = fakers;
  const region = site ? demoSiteRegion(site) : 'US';
  const f = fakers.byLocale[REGION_LOCALE[region]];
  const fields = rng.helpers.weightedArrayElement([
    { weight: 30, value: ['phone'] },
    { weight: 25, value: ['email'] },
    { weight: 20, value: ['lastName'] },
    { weight: 15, value: ['phone', 'email'] },
    { weight: 10, value: ['phone', 'email', 'lastName'] },
  ] as const) as readonly string[];
  const next = { ...c };
  if (fields.includes('phone')) {
    do next.phoneNumber = demoPhone(rng, region);
    while (samePhone(next.phoneNumber, c.phoneNumber, region));
  }
  if (fields.includes('email')) {
    const old = c.email?.trim().toLowerCase();
    do next.email = demoEmail(f, rng, c.firstName, c.lastName);
    while (next.email.trim().toLowerCase() === old);
  }
  if (fields.includes('lastName')) {
    const old = c.lastName.normalize('NFC').trim();
    do next.lastName = personName(f).lastName;
    while (next.lastName === old);
  }
  return next;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function pick<T>(rng: Faker, from: readonly T[], count: number, what: string): T[] {
  if (!Number.isSafeInteger(count) || count < 0 || count > from.length) {
    throw new RangeError(`generateDemoEdits: ${what} must be a whole number in [0, ${from.length}], got ${count}`);
  }
  return rng.helpers.arrayElements([...from], count);
}
