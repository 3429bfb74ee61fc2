import type { FastifyReply } from 'fastify';
import type { SandboxContext } from '../context.js';
import { sendError } from '../errors.js';
import type { SandboxContact } from '../types.js';
import type { FieldProblem } from '../validate.js';

/** Route patterns of the five endpoints of docs/CHEKT-API.md#contacts-endpoints. */
export const CONTACTS_PATH = '/partner/v1/dealers/:dealerId/sites/:siteId/contacts';
export const CONTACT_PATH = `${CONTACTS_PATH}/:contactId`;

export interface SiteParams {
  dealerId: string;
  siteId: string;
}

export interface ContactParams extends SiteParams {
  contactId: string;
}

/**
 * Resolves the dealer and site of a request. Unknown dealer or site → 404 `not_found` naming `dealerId` or
 * `siteId` (CHeKT's "Error Responses": 404 "Contact, site, or dealer does not exist"), unless `autoCreateSites`.
 * @returns true when the site exists (or was just registered); false after sending the 404.
 */
export function resolveSite(ctx: SandboxContext, params: SiteParams, reply: FastifyReply): boolean {
  const { dealerId, siteId } = params;
  if (ctx.store.hasSite(dealerId, siteId)) return true;
  if (ctx.autoCreateSites) {
    ctx.store.addSite(dealerId, siteId);
    return true;
  }
  if (!ctx.store.hasDealer(dealerId)) sendError(reply, 404, 'not_found', `dealer ${dealerId} not found`, 'dealerId');
  else sendError(reply, 404, 'not_found', `site ${siteId} not found for dealer ${dealerId}`, 'siteId');
  return false;
}

/**
 * Parses a path `contactId`: CHeKT's `contact_id` is a number (docs/CHEKT-API.md#ids), so anything but a
 * decimal integer cannot name a contact and gets the same 404 as an unknown id. The wire id is the store's
 * id plus `offset` ({@link SandboxContext.contactIdOffset}), compared exactly (BigInt).
 */
export function parseContactId(raw: string, offset = 0n): number | undefined {
  if (!/^[0-9]{1,30}$/.test(raw)) return undefined;
  const id = BigInt(raw) - offset;
  return id >= 0n && id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : undefined;
}

/**
 * Serialises a `/partner` reply with every `"contact_id":<n>` shifted by `offset`, written as exact digits
 * (JSON.stringify cannot write an integer beyond 2^53). Keys only: quotes inside strings are escaped.
 * Contacts whose `external_contact_id` is in `fractional` get `contact_id` `<n>.5`: an id no client can use.
 */
export function renderContactIds(payload: unknown, offset: bigint, fractional: ReadonlySet<string> = new Set()): string {
  const text = JSON.stringify(payload, (_k, v: unknown) => (fractional.size > 0 && isListedContact(v) && fractional.has(v.external_contact_id) ? { ...v, contact_id: `fraction:${v.contact_id}` } : v));
  if (offset === 0n && fractional.size === 0) return text;
  return text
    .replace(/"contact_id":([0-9]+)/g, (_m, d: string) => `"contact_id":${(BigInt(d) + offset).toString()}`)
    .replace(/"contact_id":"fraction:([0-9]+)"/g, (_m, d: string) => `"contact_id":${(BigInt(d) + offset).toString()}.5`);
}

function isListedContact(v: unknown): v is SandboxContact {
  return typeof v === 'object' && v !== null && typeof (v as { contact_id?: unknown }).contact_id === 'number' && typeof (v as { external_contact_id?: unknown }).external_contact_id === 'string';
}

/**
 * The contact a request's path names, or undefined after sending the 404 (an unknown dealer or site, a
 * malformed or unknown `contactId`).
 */
export function findContact(ctx: SandboxContext, params: ContactParams, reply: FastifyReply): { id: number; contact: SandboxContact } | undefined {
  if (!resolveSite(ctx, params, reply)) return undefined;
  const id = parseContactId(params.contactId, ctx.contactIdOffset);
  const contact = id === undefined ? undefined : ctx.store.get(params.dealerId, params.siteId, id);
  if (id === undefined || !contact) {
    sendContactNotFound(reply, params.contactId);
    return undefined;
  }
  return { id, contact };
}

/** Sends the 404 for a contact that is not in this site. */
export function sendContactNotFound(reply: FastifyReply, contactId: string): FastifyReply {
  return sendError(reply, 404, 'not_found', `contact ${contactId} not found`, 'contactId');
}

/** Sends a body-validation 400 (docs/CHEKT-API.md#error-bodies: a 400 names `error.field`). */
export function sendFieldProblem(reply: FastifyReply, problem: FieldProblem): FastifyReply {
  return sendError(reply, 400, problem.code, problem.message, problem.field);
}

/** Sends the `rejectExternalContactIds` fault's 400. */
export function sendRejected(reply: FastifyReply, externalContactId: string): FastifyReply {
  return sendError(reply, 400, 'invalid_field', `external_contact_id ${externalContactId} rejected (sandbox fault: rejectExternalContactIds)`, 'external_contact_id');
}
