import type { ChektContact } from '../domain/chektContact.js';
import type { DesiredContact, DesiredField, NormalizeRules, PreparedContact } from './contact.js';
import { parsePhone, type NumberKind } from './phone.js';
import { normalizeText } from './text.js';

/**
 * Reachability (docs/REACHABILITY.md). Pure. When an operator verifies an alarm, CHeKT texts its verification
 * link to every contact of the site at once; a landline cannot receive it. So what matters about a site's
 * list is how many of its contacts can receive an SMS, and a site with none is *unreachable*.
 *
 * Glossary:
 * - **phone type**: what a contact's normalised phone is ({@link PhoneType}); `invalid` and `none` say why
 *   there is no number to text;
 * - **SMS-capable**: a phone type in {@link SMS_CAPABLE_TYPES} whose number CHeKT kept as sent (the echo check,
 *   {@link echoReachProblem});
 * - **reach problem**: why a contact that should be SMS-capable is not in CHeKT (CHeKT dropped or changed its phone).
 */

/** A contact's phone type: libphonenumber-js's type, or `invalid` (dropped, not sent) or `none` (no phone). */
export type PhoneType = NumberKind | 'invalid' | 'none';

/**
 * The types that count as able to receive CHeKT's SMS. `fixed_line_or_mobile` is what libphonenumber-js
 * answers for every North American number (the NANP does not tell mobiles from landlines by number), and a
 * personal number forwards to its owner's phone, usually a mobile. VoIP numbers vary (some providers take SMS,
 * many do not), so they do not count; neither do toll-free, premium-rate, shared-cost, UAN, pager and
 * voicemail numbers, which are not a person's handset. See docs/REACHABILITY.md.
 */
export const SMS_CAPABLE_TYPES: ReadonlySet<PhoneType> = new Set<PhoneType>(['mobile', 'fixed_line_or_mobile', 'personal_number']);

/** True when a phone of this type can receive CHeKT's verification SMS ({@link SMS_CAPABLE_TYPES}). */
export function isSmsCapable(type: PhoneType): boolean {
  return SMS_CAPABLE_TYPES.has(type);
}

/** The type of a desired contact's phone field (domain/contact.ts `DesiredContact.phone`). */
export function phoneTypeOf(field: DesiredField): PhoneType {
  if (field.state === 'absent') return 'none';
  if (field.state === 'invalid') return 'invalid';
  return field.kind ?? 'unknown';
}

/**
 * The type of a phone as written (a CRM value, or what CHeKT holds), parsed under `rules`; bare digits that are
 * not a number of the default region are also tried as an international number (as domain/contact.ts
 * `remoteKeys` does).
 */
export function classifyPhone(raw: string | null, rules: Pick<NormalizeRules, 'defaultRegion'>): PhoneType {
  const text = normalizeText(raw);
  if (text === null) return 'none';
  const parsed = parsePhone(text, rules.defaultRegion, 'E164');
  if (parsed.ok) return parsed.phone.kind;
  if (/^\d{8,15}$/.test(text)) {
    const international = parsePhone(`+${text}`, rules.defaultRegion, 'E164');
    if (international.ok) return international.phone.kind;
  }
  return 'invalid';
}

/** One contact's reachability. */
export interface ContactReach {
  readonly phoneType: PhoneType;
  /** The phone type is SMS-capable and CHeKT kept it ({@link reachProblem} null). */
  readonly smsCapable: boolean;
  /** Why CHeKT's copy cannot be texted although the CRM's phone could (the echo check), or null. */
  readonly reachProblem: string | null;
}

/**
 * Reachability of one CRM contact (prepared by domain/contact.ts `prepareContact`; `rawPhone` is its CRM
 * `phone_number`) as CHeKT will hold it once the plan is applied: its prepared phone's type, less a reach
 * problem recorded by the echo check of the last write of this same phone. A contact that is not synced at all
 * (a skipped contact) is `smsCapable: false` with its phone type.
 */
export function contactReach(prepared: PreparedContact, rawPhone: string | null, rules: NormalizeRules, reachProblem: string | null): ContactReach {
  const phoneType = prepared.ok ? phoneTypeOf(prepared.contact.phone) : classifyPhone(rawPhone, rules);
  const problem = prepared.ok && isSmsCapable(phoneType) ? reachProblem : null;
  return { phoneType, smsCapable: prepared.ok && isSmsCapable(phoneType) && problem === null, reachProblem: problem };
}

/** A site's reachability, as shown by `npm run status`, the site API and the run report. */
export interface SiteReach {
  /** Live CRM contacts of the site (skipped ones included). */
  readonly contacts: number;
  /** Of those, contacts CHeKT can text (see {@link ContactReach.smsCapable}). */
  readonly smsCapable: number;
  /** Contacts per phone type. */
  readonly phoneTypes: Partial<Record<PhoneType, number>>;
  /** Contacts whose phone CHeKT did not keep as sent (the echo check). */
  readonly reachProblems: number;
  /** Contacts not synced at all (skipped: an unusable name or id). */
  readonly notSynced: number;
  /** In words, e.g. "2 contacts: 1 landline, 1 without a phone". */
  readonly reason: string;
}

/** One site's reachability with its ids. */
export interface SiteReachRow extends SiteReach {
  /** "dealerId/siteId". */
  readonly site: string;
  readonly crmSiteId: string;
}

/** An enabled site without an SMS-capable contact (`npm run status -- --json`, run reports). */
export interface UnreachableSite {
  /** "dealerId/siteId". */
  readonly site: string;
  readonly contacts: number;
  readonly smsCapable: 0;
  /** Why, in words: "2 contacts: 1 landline, 1 without a phone". */
  readonly reason: string;
}

/** The {@link UnreachableSite}s among `rows`. */
export function unreachableOf(rows: readonly SiteReachRow[]): UnreachableSite[] {
  return rows.filter((r) => r.smsCapable === 0).map((r) => ({ site: r.site, contacts: r.contacts, smsCapable: 0, reason: r.reason }));
}

/** One contact as {@link siteReach} counts it. */
export interface CountedContact extends ContactReach {
  /** False for a contact that is skipped (never sent to CHeKT). */
  readonly synced: boolean;
}

const TYPE_WORDS: Record<PhoneType, string> = {
  mobile: 'mobile',
  fixed_line_or_mobile: 'mobile or landline (North America)',
  personal_number: 'personal number',
  fixed_line: 'landline',
  voip: 'VoIP',
  toll_free: 'toll-free',
  premium_rate: 'premium-rate',
  shared_cost: 'shared-cost',
  uan: 'UAN (company number)',
  pager: 'pager',
  voicemail: 'voicemail',
  unknown: 'of unknown type',
  invalid: 'with an invalid phone',
  none: 'without a phone',
};

/** Order of the words in a reason: SMS-capable first, then by how common the case is. */
const TYPE_ORDER = Object.keys(TYPE_WORDS) as PhoneType[];

/** Sums contacts into a {@link SiteReach}. */
export function siteReach(contacts: readonly CountedContact[]): SiteReach {
  const phoneTypes: Partial<Record<PhoneType, number>> = {};
  let smsCapable = 0;
  let reachProblems = 0;
  let notSynced = 0;
  for (const c of contacts) {
    if (!c.synced) {
      notSynced += 1;
      continue;
    }
    phoneTypes[c.phoneType] = (phoneTypes[c.phoneType] ?? 0) + 1;
    if (c.smsCapable) smsCapable += 1;
    if (c.reachProblem !== null) reachProblems += 1;
  }
  const parts = TYPE_ORDER.filter((t) => phoneTypes[t]).map((t) => {
    const n = phoneTypes[t]!;
    return `${n} ${TYPE_WORDS[t]}`;
  });
  if (reachProblems > 0) parts.push(`${reachProblems} whose phone CHeKT did not keep`);
  if (notSynced > 0) parts.push(`${notSynced} not synced (invalid contact)`);
  const n = contacts.length;
  const reason = n === 0 ? 'no contacts' : `${n} contact${n === 1 ? '' : 's'}: ${parts.join(', ')}`;
  return { contacts: n, smsCapable, phoneTypes, reachProblems, notSynced, reason };
}

/**
 * The echo check (CHeKT's "Best Practices": test a contact's reachability after creating it; docs/REACHABILITY.md#the-echo-check-reachability-after-creation): CHeKT's answer to a
 * create or update against the phone that was sent. Null when CHeKT kept an SMS-capable phone with the same
 * digits, or when no SMS-capable phone was sent (nothing to lose); else the problem in words:
 * - CHeKT dropped the phone (none in its answer);
 * - CHeKT changed its digits (its answer is another number, or no number at all);
 * - CHeKT stored a number that is no longer SMS-capable (e.g. national digits read in another region).
 */
export function echoReachProblem(sent: DesiredContact, echo: ChektContact, rules: NormalizeRules): string | null {
  if (sent.phone.state !== 'value' || !isSmsCapable(phoneTypeOf(sent.phone))) return null;
  const text = normalizeText(echo.phoneNumber);
  if (text === null) return 'CHeKT dropped the phone number it was sent';
  // CHeKT kept the very E.164 number it was sent (the usual answer): E.164 parses back to the same number, with
  // no extension and the type checked above, so the parse below would find nothing. Skipping it saves a parse
  // with the full metadata on every write (up to 0.15 ms of CPU,
  // docs/BENCHMARKS.md#what-stops-a-target-numbers-for-the-core).
  if (text === sent.phone.key) return null;
  const parsed = parsePhone(text, rules.defaultRegion, 'E164');
  const international = !parsed.ok && /^\d{8,15}$/.test(text) ? parsePhone(`+${text}`, rules.defaultRegion, 'E164') : null;
  const stored = parsed.ok ? parsed.phone : international?.ok ? international.phone : null;
  if (!stored || stored.canonical !== sent.phone.key) return 'CHeKT stored a phone number with other digits than it was sent';
  if (stored.extension !== undefined) return 'CHeKT stored the phone number with an extension';
  if (!isSmsCapable(stored.kind)) return `CHeKT stored a phone number that is not SMS-capable (${TYPE_WORDS[stored.kind]})`;
  return null;
}

/** {@link TYPE_WORDS} of a type, for messages. */
export function phoneTypeWords(type: PhoneType): string {
  return TYPE_WORDS[type];
}
