import { compareContactIds } from '../domain/contactId.js';
import { ChektBadRequestError, ChektConflictError, ChektResponseError } from '../chekt/errors/index.js';
import type { ChektContactsApi } from '../chekt/types.js';
import type { ChektContact, CreateContactBody, UpdateContactBody } from '../domain/chektContact.js';
import type { SiteRef } from '../domain/site.js';
import { changedFields, remoteKeys, toCreateBody, toUpdateBody, type DesiredContact, type NormalizeRules } from '../domain/contact.js';

/**
 * The CHeKT writes of one operation, made safe against the API's undocumented corners
 * (docs/CHEKT-API.md#unknowns lists PUT semantics, duplicate handling and clearing a field as open).
 */

/** What a write left in CHeKT: its `contact_id`, CHeKT's answer (the echo), and a note for the ledger. */
export interface WriteResult {
  readonly contactId: string;
  readonly adopted: boolean;
  readonly echo: ChektContact;
  readonly note: string | null;
}

/**
 * The fields a write may drop when CHeKT refuses one (400 with `error.field`, chekt/errorBody.ts): the optional
 * ones of CHeKT's "Create a Contact". `external_contact_id` (the key that matches CRM and CHeKT) and the names
 * (required at creation, and what identifies the person to an operator) are never dropped: a refusal of one of
 * them fails the write, so the contact is reported rather than stored without its identity.
 */
export const DROPPABLE_FIELDS: ReadonlySet<string> = new Set(['phone_number', 'email']);

/**
 * Sends `body`; when CHeKT refuses one droppable field of it (400 naming the field), sends it once more
 * without that field, so the person still reaches CHeKT. Returns CHeKT's answer and the field dropped.
 * @throws the first error when it names no droppable field of `body`, or the second call's error.
 */
async function sendDroppingRefused<B extends CreateContactBody | UpdateContactBody>(
  body: B,
  send: (body: B) => Promise<ChektContact>,
): Promise<{ echo: ChektContact; dropped: { field: string; reason: string } | null }> {
  try {
    return { echo: await send(body), dropped: null };
  } catch (err) {
    const field = err instanceof ChektBadRequestError ? err.field : undefined;
    if (field === undefined || !DROPPABLE_FIELDS.has(field) || !(field in body)) throw err;
    const { [field as keyof B]: _refused, ...rest } = body;
    const echo = await send(rest as B);
    // Status and code only: CHeKT's message may echo the refused value (personal data) into the run report.
    const e = err as ChektBadRequestError;
    return { echo, dropped: { field, reason: `status ${e.status ?? '?'}${e.code ? `, code ${e.code}` : ''}` } };
  }
}

/** The note for a dropped field (no value: the report carries no personal data). */
function droppedNote(dropped: { field: string; reason: string }, value: unknown, written: 'created' | 'updated'): string {
  return value === '' ? `CHeKT refused to clear ${dropped.field}; left as it is` : `CHeKT refused ${dropped.field} (${dropped.reason}); ${written} without it`;
}

/**
 * Updates a contact. Two safeguards:
 * - a field that is invalid in the CRM is not sent by {@link toUpdateBody}; in case CHeKT's PUT replaces the
 *   whole contact, CHeKT's current value is read (GET) and sent back, so a working phone or email is kept;
 * - if CHeKT refuses a droppable field (400 naming it: a value it does not accept, or `""` to clear it), the
 *   update is sent once more without that field and the note says so, instead of failing the whole update.
 * @throws the client's ChektError subclasses (a 404 means the contact vanished in CHeKT).
 */
export async function updateContact(
  chekt: ChektContactsApi,
  site: SiteRef,
  contactId: string,
  contact: DesiredContact,
  /** CHeKT's copy when the caller already read it (saves the GET). */
  known?: ChektContact,
): Promise<WriteResult> {
  const body = toUpdateBody(contact);
  if (contact.phone.state === 'invalid' || contact.email.state === 'invalid') {
    const current = known ?? (await chekt.getContact(site, contactId));
    if (contact.phone.state === 'invalid' && current.phoneNumber) body.phone_number = current.phoneNumber;
    if (contact.email.state === 'invalid' && current.email) body.email = current.email;
  }
  const { echo, dropped } = await sendDroppingRefused(body, (b) => chekt.updateContact(site, contactId, b));
  const note = dropped ? droppedNote(dropped, body[dropped.field as keyof UpdateContactBody], 'updated') : null;
  return { contactId, adopted: false, echo, note };
}

/**
 * Creates the contact, or adopts the CHeKT contact that already has its `external_contact_id` (looked up
 * before a retried create, whose first response may have been lost after CHeKT committed it, or after a
 * 409) and brings its fields up to date. Never creates a second copy.
 */
export async function createOrAdopt(chekt: ChektContactsApi, rules: NormalizeRules, site: SiteRef, contact: DesiredContact, lookFirst: boolean): Promise<WriteResult> {
  if (lookFirst) {
    const existing = await findByExternalId(chekt, site, contact.externalContactId);
    if (existing) return adopt(chekt, rules, site, contact, existing);
  }
  try {
    const { echo: created, dropped } = await sendDroppingRefused(toCreateBody(contact), (b) => chekt.createContact(site, b));
    return { contactId: created.contactId, adopted: false, echo: created, note: dropped ? droppedNote(dropped, 'value', 'created') : null };
  } catch (err) {
    if (!(err instanceof ChektConflictError)) throw err;
    const existing = await findByExternalId(chekt, site, contact.externalContactId);
    if (!existing) throw err;
    return adopt(chekt, rules, site, contact, existing);
  }
}

async function adopt(chekt: ChektContactsApi, rules: NormalizeRules, site: SiteRef, contact: DesiredContact, existing: ChektContact): Promise<WriteResult> {
  if (changedFields(contact, remoteKeys(existing, rules)).length === 0) {
    return { contactId: existing.contactId, adopted: true, echo: existing, note: null };
  }
  const updated = await updateContact(chekt, site, existing.contactId, contact, existing);
  return { ...updated, adopted: true };
}

/**
 * CHeKT's copy of a contact by `external_contact_id` (compared in NFC), the oldest when several.
 * @throws {ChektResponseError} (not retryable) when CHeKT holds it under a `contact_id` that cannot be
 * addressed: adopting it is impossible and creating another would duplicate it.
 */
export async function findByExternalId(chekt: ChektContactsApi, site: SiteRef, externalContactId: string): Promise<ChektContact | undefined> {
  const key = externalContactId.normalize('NFC');
  const list = await chekt.listContacts(site);
  const copies = list.filter((c) => c.externalContactId?.normalize('NFC') === key);
  const blocked = copies.find((c) => c.unaddressable !== undefined);
  if (blocked) throw new ChektResponseError({ endpoint: 'GET contacts', code: 'unaddressable_contact_id', detail: blocked.unaddressable });
  return copies.sort((a, b) => compareContactIds(a.contactId, b.contactId))[0];
}
