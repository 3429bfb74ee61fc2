import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ChektContact, CreateContactBody, UpdateContactBody } from '../domain/chektContact.js';
import { parsePhone, type NumberKind, type PhoneFormat } from './phone.js';
import { codePointLength, isWellFormedText, normalizeText, truncateText } from './text.js';

/**
 * From a CRM row to what CHeKT should hold, and back. Pure.
 *
 * Validation policy (one per case, documented in docs/SAFETY.md "Data rules"):
 * - an id that cannot serve as `external_contact_id` (see {@link externalIdProblem}): the contact is SKIPPED.
 * - first_name or last_name empty after normalisation (or after truncation, when its first character alone is
 *   longer than `maxNameLength`), or broken Unicode in a name: the contact is SKIPPED
 *   (CHeKT requires both names; docs/CHEKT-API.md#contacts-endpoints).
 * - a name longer than `maxNameLength` code points: truncated at a character boundary, synced, with a warning.
 * - an unparseable or invalid phone, an invalid or over-long email, broken Unicode in either: that field is
 *   DROPPED (not sent, and not compared, so a working value already in CHeKT is never overwritten by it);
 *   the rest of the contact syncs, with a warning.
 * - a phone with an extension: sent without it (an SMS cannot dial an extension), with a warning.
 */

/** A contact row from the partner's CRM `contacts` table (camel-cased). */
export interface CrmContact {
  /** `contacts.id`, sent to CHeKT as `external_contact_id`. */
  readonly id: string;
  /** `contacts.site_id`: the CRM site id (`sites.id`), never CHeKT's site id (domain/site.ts). */
  readonly crmSiteId: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly phoneNumber: string | null;
  readonly email: string | null;
  /** Non-null: removed from the CRM (soft-deleted). */
  readonly deletedAt: Date | null;
}

/** Normalisation settings (config `PHONE_DEFAULT_REGION`, `PHONE_FORMAT`, `CONTACT_MAX_NAME_LENGTH`). */
export interface NormalizeRules {
  /** ISO 3166-1 alpha-2 region for phones written without a country code. Default US. */
  readonly defaultRegion: string;
  /** How phones are sent. Default E164. */
  readonly phoneFormat: PhoneFormat;
  /** Longest first/last name sent, in code points. Default 100. */
  readonly maxNameLength: number;
  /** Longest email accepted, in characters. 254 (RFC 5321 §4.5.3.1 path limit). */
  readonly maxEmailLength: number;
}

export const DEFAULT_RULES: NormalizeRules = Object.freeze({
  defaultRegion: 'US',
  phoneFormat: 'E164',
  maxNameLength: 100,
  maxEmailLength: 254,
});

/** An optional field's desired state: a value to send, absent (clear it in CHeKT), or invalid (leave it be). */
export type DesiredField =
  /** `kind`: a phone's number type (domain/phone.ts), absent for an email. */
  { readonly state: 'value'; readonly value: string; readonly key: string; readonly kind?: NumberKind } | { readonly state: 'absent' } | { readonly state: 'invalid'; readonly reason: string };

/** What CHeKT should hold for one CRM contact, normalised and validated. */
export interface DesiredContact {
  readonly externalContactId: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly phone: DesiredField;
  readonly email: DesiredField;
  /** Field-level problems that did not stop the sync (dropped field, truncated name). */
  readonly warnings: readonly string[];
}

/** Result of {@link prepareContact}: a contact to sync, or the reason it is skipped. */
export type PreparedContact = { readonly ok: true; readonly contact: DesiredContact } | { readonly ok: false; readonly externalContactId: string; readonly reason: string };

const emailSchema = z.email();

/** Validates and normalises one CRM contact under `rules`. Never throws. */
export function prepareContact(crm: CrmContact, rules: NormalizeRules = DEFAULT_RULES): PreparedContact {
  const idProblem = externalIdProblem(crm.id);
  if (idProblem) return skip(crm.id, idProblem);
  const warnings: string[] = [];
  const names: string[] = [];
  for (const [field, raw] of [
    ['first_name', crm.firstName],
    ['last_name', crm.lastName],
  ] as const) {
    if (raw !== null && !isWellFormedText(raw)) return skip(crm.id, `${field} contains broken Unicode`);
    const text = normalizeText(raw);
    if (text === null) return skip(crm.id, `${field} is empty`);
    const cut = truncateText(text, rules.maxNameLength);
    // One grapheme longer than the limit (e.g. a letter with stacked combining marks) cuts to nothing.
    if (cut === '') return skip(crm.id, `${field} is empty after truncation to ${rules.maxNameLength} characters`);
    if (codePointLength(text) > rules.maxNameLength) warnings.push(`${field} truncated to ${rules.maxNameLength} characters`);
    names.push(cut);
  }
  const { field: phone, extension } = preparePhone(crm.phoneNumber, rules);
  const email = prepareEmail(crm.email, rules);
  for (const f of [phone, email]) if (f.state === 'invalid') warnings.push(`${f.reason}; field not sent`);
  if (extension) warnings.push(EXTENSION_WARNING);
  return {
    ok: true,
    contact: { externalContactId: crm.id, firstName: names[0]!, lastName: names[1]!, phone, email, warnings },
  };
}

/** Longest `external_contact_id` accepted, in code points (CHeKT's limit is undocumented; 255 is a common column size). */
export const MAX_EXTERNAL_ID_LENGTH = 255;

/**
 * Why a CRM `contacts.id` cannot be sent as `external_contact_id`, or null when it can. The id is the key that
 * matches CRM and CHeKT contacts, so it is sent exactly as stored and never normalised: an id CHeKT could
 * store differently (white space at either end, control characters, broken Unicode, over-long) would never
 * match again and cause a create on every run, so such a contact is skipped instead.
 */
export function externalIdProblem(id: string): string | null {
  if (id.trim() === '') return 'external_contact_id (contacts.id) is empty';
  if (id !== id.trim()) return 'external_contact_id (contacts.id) has white space at the start or end';
  if (!isWellFormedText(id)) return 'external_contact_id (contacts.id) contains broken Unicode';
  if (/[\u0000-\u001F\u007F]/.test(id)) return 'external_contact_id (contacts.id) contains control characters';
  // CHeKT may normalise ids, and ids are matched in NFC: an id in another form could collide with a different
  // contact's id ("josé" written with a combining accent and with a precomposed one).
  if (id !== id.normalize('NFC')) return 'external_contact_id (contacts.id) is not in Unicode NFC form, so it could collide with another id';
  if (codePointLength(id) > MAX_EXTERNAL_ID_LENGTH) return `external_contact_id (contacts.id) is longer than ${MAX_EXTERNAL_ID_LENGTH} characters`;
  return null;
}

function skip(externalContactId: string, reason: string): PreparedContact {
  return { ok: false, externalContactId, reason };
}

/** The warning of a contact whose phone had an extension (no digits: reports carry no personal data). */
export const EXTENSION_WARNING = 'phone_number has an extension; sent without it (an SMS cannot dial an extension)';

function preparePhone(raw: string | null, rules: NormalizeRules): { field: DesiredField; extension: boolean } {
  if (raw !== null && !isWellFormedText(raw)) return { field: { state: 'invalid', reason: 'phone_number contains broken Unicode' }, extension: false };
  const text = normalizeText(raw);
  if (text === null) return { field: { state: 'absent' }, extension: false };
  const parsed = parsePhone(text, rules.defaultRegion, rules.phoneFormat);
  if (!parsed.ok) return { field: { state: 'invalid', reason: parsed.reason }, extension: false };
  const p = parsed.phone;
  return { field: { state: 'value', value: p.formatted, key: p.canonical, kind: p.kind }, extension: p.extension !== undefined };
}

function prepareEmail(raw: string | null, rules: NormalizeRules): DesiredField {
  if (raw !== null && !isWellFormedText(raw)) return { state: 'invalid', reason: 'email contains broken Unicode' };
  const text = normalizeText(raw);
  if (text === null) return { state: 'absent' };
  if (text.length > rules.maxEmailLength) return { state: 'invalid', reason: `email is longer than ${rules.maxEmailLength} characters` };
  if (!emailSchema.safeParse(text).success) return { state: 'invalid', reason: 'email is not a valid address' };
  return { state: 'value', value: text, key: text.toLowerCase() };
}

/** Comparison keys of a contact as CHeKT holds it (same normalisation as the CRM side). */
export interface RemoteKeys {
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly phone: string | null;
  readonly email: string | null;
}

/**
 * Normalises a CHeKT contact for comparison. CHeKT may store phones as bare digits (CHeKT's own example is
 * "1234567890"), so digits that are not a valid number in the default region are also tried as an
 * international number ("33142685300" → +33 1 42 68 53 00). A phone that parses neither way is compared as text.
 */
export function remoteKeys(remote: ChektContact, rules: NormalizeRules = DEFAULT_RULES): RemoteKeys {
  const phoneText = normalizeText(remote.phoneNumber);
  return {
    firstName: normalizeText(remote.firstName),
    lastName: normalizeText(remote.lastName),
    phone: phoneText === null ? null : remotePhoneKey(phoneText, rules),
    email: normalizeText(remote.email)?.toLowerCase() ?? null,
  };
}

function remotePhoneKey(text: string, rules: NormalizeRules): string {
  const parsed = parsePhone(text, rules.defaultRegion, rules.phoneFormat);
  // A CHeKT copy still holding an extension (sent by an older version) differs from the number without it.
  if (parsed.ok) return parsed.phone.extension ? `${parsed.phone.canonical};ext=${parsed.phone.extension}` : parsed.phone.canonical;
  if (/^\d{8,15}$/.test(text)) {
    const international = parsePhone(`+${text}`, rules.defaultRegion, rules.phoneFormat);
    if (international.ok) return international.phone.canonical;
  }
  return text;
}

/** CHeKT field names, as CHeKT spells them (docs/CHEKT-API.md#contacts-endpoints). */
export type ContactField = 'first_name' | 'last_name' | 'phone_number' | 'email';

/**
 * Fields whose normalised values differ between the desired contact and CHeKT's copy. Names compare exactly
 * after normalisation (case matters in a name); emails ignore case; phones compare canonical forms.
 * An invalid desired field is never reported: it is not sent.
 */
export function changedFields(desired: DesiredContact, remote: RemoteKeys): ContactField[] {
  const out: ContactField[] = [];
  if (desired.firstName !== remote.firstName) out.push('first_name');
  if (desired.lastName !== remote.lastName) out.push('last_name');
  if (fieldDiffers(desired.phone, remote.phone)) out.push('phone_number');
  if (fieldDiffers(desired.email, remote.email)) out.push('email');
  return out;
}

function fieldDiffers(desired: DesiredField, remote: string | null): boolean {
  if (desired.state === 'invalid') return false;
  if (desired.state === 'absent') return remote !== null;
  return desired.key !== remote;
}

/** Body for `POST .../contacts` (CHeKT's "Create a Contact"); absent and invalid optional fields are omitted. */
export function toCreateBody(c: DesiredContact): CreateContactBody {
  const body: CreateContactBody = { external_contact_id: c.externalContactId, first_name: c.firstName, last_name: c.lastName };
  if (c.phone.state === 'value') body.phone_number = c.phone.value;
  if (c.email.state === 'value') body.email = c.email.value;
  return body;
}

/**
 * Body for `PUT .../contacts/{contactId}` (CHeKT's "Update a Contact", every field optional): names always,
 * a valid phone/email as its value, an absent one as "" (clears it in CHeKT), an invalid one left out so
 * CHeKT keeps what it has.
 */
export function toUpdateBody(c: DesiredContact): UpdateContactBody {
  const body: UpdateContactBody = { first_name: c.firstName, last_name: c.lastName };
  if (c.phone.state !== 'invalid') body.phone_number = c.phone.state === 'value' ? c.phone.value : '';
  if (c.email.state !== 'invalid') body.email = c.email.state === 'value' ? c.email.value : '';
  return body;
}

/**
 * sha256 hex of the comparison keys of the fields this service manages (names, canonical phone, lower-cased
 * email), stored in the ledger as `last_sent_hash`: equal hashes mean CHeKT needs no write for this contact.
 */
export function contentHash(c: DesiredContact): string {
  const json = JSON.stringify([c.externalContactId, c.firstName, c.lastName, fieldKey(c.phone), fieldKey(c.email)]);
  return createHash('sha256').update(json).digest('hex');
}

/**
 * sha256 hex of a CHeKT contact's managed fields as CHeKT holds them (text normalised, phone not parsed): stored
 * as the ledger's `last_echo_hash` after a write, and compared with CHeKT's list later.
 */
export function echoHash(remote: ChektContact): string {
  const fields = [remote.firstName, remote.lastName, remote.phoneNumber, remote.email].map(normalizeText);
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

function fieldKey(f: DesiredField): string | null {
  return f.state === 'value' ? f.key : f.state === 'absent' ? null : '\u0000invalid';
}
