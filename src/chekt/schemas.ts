import { z } from 'zod';
import type { ChektContact } from '../domain/chektContact.js';

/**
 * zod schemas for CHeKT response bodies. Lenient on purpose (docs/CHEKT-API.md#sources: the Partner API is a draft, v0.8,
 * and much is left open, docs/CHEKT-API.md#unknowns): extra fields are ignored, optional fields may be missing or
 * null, ids may be numbers or strings. Strict only where a wrong guess would corrupt a sync: every contact must
 * have a `contact_id`, and one bad list item fails the whole list (a partial list would look like deletions).
 */

/** A string, or a number/boolean turned into its string; `null`/missing → `null`. */
const nullableText = z
  .union([z.string(), z.number(), z.boolean()])
  .nullish()
  .transform((v): string | null => (v === null || v === undefined ? null : String(v)));

/**
 * `contact_id`: a number in CHeKT's "Create a Contact" response (docs/CHEKT-API.md#ids); any non-empty string accepted too, and kept
 * as a string end to end. The client parses bodies with http.ts `safeJsonExact`, so an integer beyond 2^53
 * arrives here as its exact digits (a string). A `number` that is not a safe integer (a fraction, or a big
 * number parsed some other way and already rounded) could name a neighbouring contact, so it is refused
 * (the response fails as a whole: no write is ever aimed at a rounded id). docs/CHEKT-AUTH-AND-IDS.md.
 */
const contactId = z.union([z.number().refine(Number.isSafeInteger, 'contact_id is not an integer below 2^53; it cannot be kept exactly'), z.string().trim().min(1)]).transform((v) => String(v));

/**
 * One contact as CHeKT returns it (CHeKT's "Create a Contact" response fields, docs/CHEKT-API.md#contacts-endpoints), mapped to {@link ChektContact}.
 * Extra fields (e.g. `updated_at`) are accepted and dropped.
 */
export const chektContactSchema = z
  .looseObject({
    contact_id: contactId,
    external_contact_id: nullableText,
    first_name: nullableText,
    last_name: nullableText,
    phone_number: nullableText,
    email: nullableText,
    created_at: nullableText,
  })
  .transform((c): ChektContact => ({
    contactId: c.contact_id,
    externalContactId: c.external_contact_id,
    firstName: c.first_name,
    lastName: c.last_name,
    phoneNumber: c.phone_number,
    email: c.email,
    createdAt: c.created_at,
  }));

/**
 * A list item: as {@link chektContactSchema}, except that a `contact_id` that cannot be used is kept, flagged
 * `unaddressable` with the reason, instead of failing the whole list. The item stays in the list, so the
 * plan never mistakes it for a deletion; it is never written to (domain/plan.ts).
 */
const chektListedContactSchema = z.looseObject({ contact_id: z.unknown().optional() }).transform((c, ctx): ChektContact => {
  const rest = chektContactSchema.safeParse({ ...c, contact_id: 'placeholder' });
  if (!rest.success) {
    for (const issue of rest.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  }
  const id = contactId.safeParse(c.contact_id);
  if (id.success) return { ...rest.data, contactId: id.data };
  const raw = c.contact_id === undefined ? '' : typeof c.contact_id === 'string' ? c.contact_id : (JSON.stringify(c.contact_id) ?? '');
  return { ...rest.data, contactId: raw, unaddressable: unaddressableReason(c.contact_id, raw) };
});

function unaddressableReason(value: unknown, raw: string): string {
  if (value === undefined || value === null || raw.trim() === '') return 'CHeKT listed this contact without a contact_id: it cannot be addressed';
  const shown = raw.length > 40 ? `${raw.slice(0, 39)}…` : raw;
  if (typeof value === 'number') return `CHeKT listed this contact with contact_id ${shown}, not a whole number that can be kept exactly: it cannot be addressed`;
  return `CHeKT listed this contact with contact_id ${shown}, neither a number nor a string: it cannot be addressed`;
}

/**
 * The contact list: a bare array (CHeKT's "List All Contacts"), or defensively `{data:[...]}`, `{contacts:[...]}` or
 * `{data:{contacts:[...]}}` (the Dealer API's shape, docs/CHEKT-API.md#contacts-endpoints). Items with an unusable `contact_id` are
 * flagged `unaddressable` rather than failing the list.
 */
export const chektContactListSchema = z.preprocess(unwrapList, z.array(chektListedContactSchema));

function unwrapList(body: unknown): unknown {
  if (Array.isArray(body) || typeof body !== 'object' || body === null) return body;
  const o = body as Record<string, unknown>;
  if (Array.isArray(o['data'])) return o['data'];
  if (Array.isArray(o['contacts'])) return o['contacts'];
  const data = o['data'];
  if (typeof data === 'object' && data !== null && Array.isArray((data as Record<string, unknown>)['contacts'])) {
    return (data as Record<string, unknown>)['contacts'];
  }
  return body;
}

/** Default token lifetime, in seconds, when `expires_in` is missing or unusable (docs/CHEKT-API.md#token-endpoint: "about an hour"). */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/**
 * Token endpoint response (docs/CHEKT-API.md#token-endpoint: standard OAuth2 fields assumed). `access_token` is required;
 * `expires_in` (seconds) may be a number or a numeric string, and becomes `undefined` when missing, non-numeric
 * or not positive, so the caller applies its fallback; `token_type` is optional. Extra fields (`scope`) ignored.
 */
export const tokenResponseSchema = z
  .looseObject({
    access_token: z.string().trim().min(1),
    expires_in: z.union([z.number(), z.string()]).nullish(),
    token_type: z.string().nullish(),
  })
  .transform((t) => {
    const n = typeof t.expires_in === 'string' && t.expires_in.trim() !== '' ? Number(t.expires_in) : t.expires_in;
    return {
      accessToken: t.access_token,
      expiresInSeconds: typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined,
      tokenType: t.token_type ?? undefined,
    };
  });

/** A token response after {@link parseTokenResponse}: the lifetime is always known, in seconds. */
export interface TokenResponse {
  readonly accessToken: string;
  readonly expiresInSeconds: number;
  /** Whether `expiresInSeconds` came from the fallback rather than `expires_in`. */
  readonly usedFallbackTtl: boolean;
  readonly tokenType: string | undefined;
}

/**
 * Validates a token response body and applies `fallbackTtlSeconds` (default {@link DEFAULT_TOKEN_TTL_SECONDS})
 * when `expires_in` is unusable.
 * @returns the token, or `undefined` when the body has no usable `access_token`.
 */
export function parseTokenResponse(body: unknown, fallbackTtlSeconds = DEFAULT_TOKEN_TTL_SECONDS): TokenResponse | undefined {
  const parsed = tokenResponseSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const { accessToken, expiresInSeconds, tokenType } = parsed.data;
  return {
    accessToken,
    expiresInSeconds: expiresInSeconds ?? fallbackTtlSeconds,
    usedFallbackTtl: expiresInSeconds === undefined,
    tokenType,
  };
}
