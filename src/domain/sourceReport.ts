import { prepareContact, type NormalizeRules } from './contact.js';
import { checkContactKeys, checkSites, contactKey, parseFlag, toCrmContact, type CheckedSites, type RawContactRow, type RawSiteRow, type SourceProblem } from './crmRows.js';
import { isSmsCapable, phoneTypeOf, phoneTypeWords } from './reach.js';

/**
 * The data half of `npm run source:check` (docs/SOURCE-CHECK.md#what-is-checked): the CRM's rows, checked by the
 * sync's own rules (domain/crmRows.ts for sites and keys, domain/contact.ts `prepareContact` and
 * domain/reach.ts for each contact), summed per site. Pure, and streaming: contact rows are fed in batches
 * ordered by `site_id`, and only one site's rows are held at a time, so 100,000 contacts take no more memory
 * than one site's. Ids only: no name, phone or e-mail reaches the report, and no reason quotes one.
 *
 * Glossary:
 * - **valid** contact: a live row on a usable site, with a key no other row has, that `prepareContact` accepts:
 *   the sync sends it to CHeKT;
 * - **SMS-usable**: a valid contact whose phone CHeKT can text ({@link isSmsCapable}: a landline, VoIP or a
 *   number of unknown type is not); **no phone**: a valid contact that is not SMS-usable;
 * - **invalid** contact: a row `prepareContact` skips (an empty name, an unusable id) or whose key is empty;
 * - **duplicate**: a row whose (`site_id`, `id`) another row has too: neither is synced;
 * - **orphaned**: a row whose `site_id` matches no site row (or is empty).
 */

/** What kind of data problem a {@link DataProblem} is (docs/SOURCE-CHECK.md#what-is-checked). */
export type DataProblemKind =
  /** A site row the sync leaves out: empty or repeated id, no CHeKT ids, `sync_enabled` not a flag, two sites on one CHeKT site. */
  | 'site'
  /** A contact row with an empty `id` or `site_id`. */
  | 'key'
  /** A contact row whose `site_id` matches no site. */
  | 'orphan'
  /** Two contact rows with one (`site_id`, `id`). */
  | 'duplicate'
  /** A contact `prepareContact` skips (an empty name, an unusable id). */
  | 'invalid'
  /** A valid contact without a phone CHeKT can text. */
  | 'no_phone'
  /** A valid contact with a field dropped or changed on the way (an invalid e-mail, a truncated name, an extension). */
  | 'field'
  /** An enabled site with no contact CHeKT can text (none at all, as a view that returns no rows gives): nobody gets the verification text. */
  | 'unreachable_site';

export const DATA_PROBLEM_KINDS: readonly DataProblemKind[] = ['site', 'key', 'orphan', 'duplicate', 'invalid', 'no_phone', 'field', 'unreachable_site'];

/** One data problem: ids and a reason, never a name, phone or e-mail. */
export interface DataProblem extends SourceProblem {
  readonly kind: DataProblemKind;
}

/** A contact row as read for the check: every column as text; `id` and `site_id` may be NULL. */
export type CheckedContactRow = Omit<RawContactRow, 'id' | 'site_id'> & { readonly id: string | null; readonly site_id: string | null };

/** Live contact rows of a site, or of every usable site, by what the sync makes of them (see the glossary). */
export interface ContactCounts {
  /** Live contact rows. */
  readonly contacts: number;
  readonly valid: number;
  readonly smsUsable: number;
  readonly noPhone: number;
  readonly invalid: number;
  readonly duplicates: number;
}

/** One site as the check sees it: its ids as read, which of them are usable, and its contacts' counts. */
export interface SiteSummary extends ContactCounts {
  readonly crmSiteId: string;
  /** `chekt_dealer_id` / `chekt_site_id` trimmed; null when empty (the site cannot be synced). */
  readonly dealerId: string | null;
  readonly siteId: string | null;
  /** `sync_enabled` read as a flag (true when the relation has no such column); null when it is not one. */
  readonly syncEnabled: boolean | null;
  /** The sync plans this site (when enabled): no {@link DataProblemKind} `site` problem. */
  readonly siteValid: boolean;
}

/**
 * Counts over the whole CRM. {@link ContactCounts} `contacts` counts every live row read; the other counts are
 * those of usable sites.
 */
export interface SourceTotals extends ContactCounts {
  /** Site rows read. */
  readonly sites: number;
  /** Usable sites with `sync_enabled` true, and with false. */
  readonly enabledSites: number;
  readonly disabledSites: number;
  /** Site ids the sync leaves out, and site rows with an empty id (see {@link DataProblemKind} `site`). */
  readonly invalidSites: number;
  readonly orphaned: number;
  /** Rows on sites the sync leaves out (counted nowhere else). */
  readonly onInvalidSites: number;
}

/** The data report: totals, the problems (the first {@link SourceCheckOptions.maxProblems}) and a preview of sites. */
export interface SourceDataReport {
  readonly totals: SourceTotals;
  readonly problems: {
    /** Every problem found, listed or not. */
    readonly total: number;
    readonly byKind: Readonly<Record<DataProblemKind, number>>;
    /** The first problems found, sites first, then contacts in `site_id` order. */
    readonly items: readonly DataProblem[];
    /** Problems found but not listed (`total - items.length`). */
    readonly more: number;
  };
  /** Up to {@link SourceCheckOptions.previewSites} sites: those with a problem first, then by CRM site id. */
  readonly preview: readonly SiteSummary[];
}

/** Options of {@link createSourceCheck}. */
export interface SourceCheckOptions {
  /** Phone and name rules (config `PHONE_DEFAULT_REGION`, `PHONE_FORMAT`, `CONTACT_MAX_NAME_LENGTH`). */
  readonly rules: NormalizeRules;
  /** The sites relation has a `sync_enabled` column (absent: every site is enabled). */
  readonly syncEnabledPresent: boolean;
  /** Sites in the preview. Default 10. */
  readonly previewSites?: number;
  /** Problems kept and listed; the others are only counted. Default 50. */
  readonly maxProblems?: number;
}

/** The streaming check: feed contact rows with {@link SourceCheck.addContacts}, then {@link SourceCheck.finish}. */
export interface SourceCheck {
  /**
   * Adds live contact rows, ordered by `site_id` across calls (a site's rows may span batches).
   * @throws {Error} when a `site_id` comes back after another one: the rows were not ordered.
   */
  addContacts(rows: readonly CheckedContactRow[]): void;
  finish(): SourceDataReport;
}

type Counts = { -readonly [K in keyof ContactCounts]: ContactCounts[K] };
const zero = (): Counts => ({ contacts: 0, valid: 0, smsUsable: 0, noPhone: 0, invalid: 0, duplicates: 0 });
const blank = (s: string | null): boolean => s === null || s.trim() === '';

/** Starts a check over the CRM's site rows (all of them, read first). */
export function createSourceCheck(siteRows: Iterable<RawSiteRow>, options: SourceCheckOptions): SourceCheck {
  const maxProblems = options.maxProblems ?? 50;
  const rows = [...siteRows];
  const sites = checkSites(rows, options.syncEnabledPresent);
  const byKind = Object.fromEntries(DATA_PROBLEM_KINDS.map((k) => [k, 0])) as Record<DataProblemKind, number>;
  const items: DataProblem[] = [];
  const report = (kind: DataProblemKind, p: SourceProblem) => {
    byKind[kind] += 1;
    if (items.length < maxProblems) items.push({ kind, crmSiteId: p.crmSiteId, externalContactId: p.externalContactId, reason: p.reason });
  };
  for (const p of sites.problems) report('site', p);
  const summaries = summarizeSites(rows, sites, options.syncEnabledPresent);
  const counts = new Map<string, Counts>();
  const extra = { orphaned: 0, onInvalidSites: 0, contacts: 0, blankSiteRows: rows.filter((r) => blank(r.id)).length };
  const done = new Set<string | null>();
  let group: CheckedContactRow[] = [];
  let groupSite: string | null | undefined;

  const flush = () => {
    if (groupSite === undefined) return;
    done.add(groupSite);
    checkGroup(groupSite, group);
    group = [];
  };

  /** One site's rows: keys by crmRows' rules, then each live key by the contact rules. */
  const checkGroup = (crmSiteId: string | null, contactRows: readonly CheckedContactRow[]) => {
    extra.contacts += contactRows.length;
    const site = crmSiteId === null ? undefined : sites.byId.get(crmSiteId);
    const c = crmSiteId !== null && summaries.has(crmSiteId) ? (counts.get(crmSiteId) ?? counts.set(crmSiteId, zero()).get(crmSiteId)!) : undefined;
    if (c) c.contacts += contactRows.length;
    if (!site) {
      // An unusable site has a problem of its own; its rows are not synced and not reported one by one.
      const unusable = crmSiteId !== null && sites.unusable.has(crmSiteId);
      if (unusable) extra.onInvalidSites += contactRows.length;
      else extra.orphaned += contactRows.length;
      for (const p of checkContactKeys(keyRows(contactRows), sites).problems) report(blank(p.crmSiteId) || blank(p.externalContactId) ? 'key' : 'orphan', p);
      return;
    }
    const keys = checkContactKeys(keyRows(contactRows), sites);
    // A disabled site is not synced: its contacts are counted, not reported.
    const reportHere = (kind: DataProblemKind, p: SourceProblem) => {
      if (site.syncEnabled) report(kind, p);
    };
    for (const p of keys.problems) reportHere(keys.duplicates.has(contactKey(p.crmSiteId ?? '', p.externalContactId ?? '')) ? 'duplicate' : 'key', p);
    for (const r of contactRows) {
      const key = blank(r.id) ? null : contactKey(site.crmSiteId, r.id!);
      if (key === null) c!.invalid += 1;
      else if (keys.duplicates.has(key)) c!.duplicates += 1;
      else checkContact(r as RawContactRow, c!, (kind, reason) => reportHere(kind, { crmSiteId: site.crmSiteId, externalContactId: r.id, reason }));
    }
  };

  const checkContact = (r: RawContactRow, c: Counts, problem: (kind: DataProblemKind, reason: string) => void) => {
    const prepared = prepareContact(toCrmContact(r), options.rules);
    if (!prepared.ok) {
      c.invalid += 1;
      problem('invalid', `${prepared.reason}: the contact is not synced`);
      return;
    }
    c.valid += 1;
    const { phone, warnings } = prepared.contact;
    const type = phoneTypeOf(phone);
    if (isSmsCapable(type)) c.smsUsable += 1;
    else {
      c.noPhone += 1;
      const why =
        phone.state === 'absent' ? 'has no phone_number' : phone.state === 'invalid' ? `has no usable phone (${phone.reason})` : `has a phone_number that is not SMS-capable (${phoneTypeWords(type)})`;
      problem('no_phone', `the contact ${why}: CHeKT cannot text it`);
    }
    // A dropped phone is the no_phone problem above already.
    const fields = warnings.filter((w) => !(phone.state === 'invalid' && w.startsWith('phone_number')));
    if (fields.length > 0) problem('field', fields.join('; '));
  };

  return {
    addContacts(batch) {
      for (const r of batch) {
        if (r.site_id !== groupSite) {
          flush();
          if (done.has(r.site_id)) throw new Error(`contact rows must come ordered by site_id: site_id ${JSON.stringify(r.site_id)} came back after another one`);
          groupSite = r.site_id;
        }
        group.push(r);
      }
    },
    finish() {
      flush();
      groupSite = undefined;
      for (const site of [...sites.byId.values()].sort((a, b) => (a.crmSiteId < b.crmSiteId ? -1 : a.crmSiteId > b.crmSiteId ? 1 : 0))) {
        if (!site.syncEnabled) continue;
        const c = counts.get(site.crmSiteId);
        if ((c?.smsUsable ?? 0) > 0) continue;
        const reason = (c?.contacts ?? 0) === 0 ? 'the site has no live contact' : 'no contact of the site has a phone CHeKT can text';
        report('unreachable_site', {
          crmSiteId: site.crmSiteId,
          externalContactId: null,
          reason: `${reason}: nobody would receive the verification text (and a sync holds the deletes of its managed contacts)`,
        });
      }
      return finishReport(summaries, counts, sites, extra, rows.length, { byKind, items }, options.previewSites ?? 10);
    },
  };
}

const keyRows = (rows: readonly CheckedContactRow[]) => rows.map((r) => ({ site_id: r.site_id, id: r.id, fp: '' }));

type Summary = Omit<SiteSummary, keyof Counts>;

/** Each non-empty site id's ids as read (the first row of a repeated id), and whether the sync plans it. */
function summarizeSites(rows: readonly RawSiteRow[], sites: CheckedSites, syncEnabledPresent: boolean): Map<string, Summary> {
  const out = new Map<string, Summary>();
  for (const r of rows) {
    if (blank(r.id) || out.has(r.id!)) continue;
    const flag = parseFlag(r.sync_enabled, syncEnabledPresent);
    out.set(r.id!, {
      crmSiteId: r.id!,
      dealerId: blank(r.chekt_dealer_id) ? null : r.chekt_dealer_id!.trim(),
      siteId: blank(r.chekt_site_id) ? null : r.chekt_site_id!.trim(),
      syncEnabled: typeof flag === 'boolean' ? flag : null,
      siteValid: sites.byId.has(r.id!),
    });
  }
  return out;
}

function finishReport(
  summaries: ReadonlyMap<string, Summary>,
  counts: ReadonlyMap<string, Counts>,
  sites: CheckedSites,
  extra: { orphaned: number; onInvalidSites: number; contacts: number; blankSiteRows: number },
  siteRows: number,
  problems: { byKind: Record<DataProblemKind, number>; items: DataProblem[] },
  previewSites: number,
): SourceDataReport {
  const all: SiteSummary[] = [...summaries.values()].map((s) => ({ ...s, ...(counts.get(s.crmSiteId) ?? zero()) }));
  const sum = (f: (c: Counts) => number) => [...counts.entries()].filter(([id]) => sites.byId.has(id)).reduce((a, [, c]) => a + f(c), 0);
  const enabled = [...sites.byId.values()].filter((s) => s.syncEnabled).length;
  const total = Object.values(problems.byKind).reduce((a, b) => a + b, 0);
  const attention = (s: SiteSummary) => !s.siteValid || (s.syncEnabled === true && s.invalid + s.duplicates + s.noPhone > 0);
  const preview = all.sort((a, b) => Number(attention(b)) - Number(attention(a)) || (a.crmSiteId < b.crmSiteId ? -1 : a.crmSiteId > b.crmSiteId ? 1 : 0)).slice(0, Math.max(0, previewSites));
  return {
    totals: {
      sites: siteRows,
      enabledSites: enabled,
      disabledSites: sites.byId.size - enabled,
      invalidSites: sites.unusable.size + extra.blankSiteRows,
      contacts: extra.contacts,
      valid: sum((c) => c.valid),
      smsUsable: sum((c) => c.smsUsable),
      noPhone: sum((c) => c.noPhone),
      invalid: sum((c) => c.invalid),
      duplicates: sum((c) => c.duplicates),
      orphaned: extra.orphaned,
      onInvalidSites: extra.onInvalidSites,
    },
    problems: { total, byKind: problems.byKind, items: problems.items, more: total - problems.items.length },
    preview,
  };
}
