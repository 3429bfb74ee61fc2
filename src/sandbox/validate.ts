import type { ContactPatch, NewContact } from './types.js';

/**
 * Body validation for the contacts endpoints. Pure. CHeKT's Contacts page types every field as a string and marks
 * `external_contact_id`, `first_name`, `last_name` required on create and everything optional on update
 * ("Create a Contact" / "Update a Contact", docs/CHEKT-API.md#contacts-endpoints). Field lengths are not documented (docs/CHEKT-API.md#unknowns);
 * the sandbox assumes {@link MAX_FIELD_LENGTH} so clients exercise their 400 handling.
 */

/** Longest accepted string value, in Unicode code points (an assumption, see above). */
export const MAX_FIELD_LENGTH = 255;

/** Why a body was refused; becomes a 400 envelope with `code`, `message` and `field` (docs/CHEKT-API.md#error-bodies). */
export interface FieldProblem {
  readonly code: 'invalid_body' | 'missing_field' | 'invalid_field';
  readonly message: string;
  readonly field?: string;
}

export type Validated<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: FieldProblem };

const REQUIRED = ['external_contact_id', 'first_name', 'last_name'] as const;
const NULLABLE = ['phone_number', 'email'] as const;

/**
 * Validates a create body. Required fields must be non-empty strings after trimming; `phone_number` and `email`
 * may be absent, null or strings (`""` is stored as null). Values are stored untrimmed. Unknown keys are ignored.
 * The first offending field (in the order CHeKT's page lists them) is reported.
 */
export function validateCreateBody(body: unknown): Validated<NewContact> {
  if (!isPlainObject(body)) return bad('invalid_body', 'request body must be a JSON object');
  const value: Record<string, string | null> = {};
  for (const field of REQUIRED) {
    const problem = checkRequiredString(body, field, true);
    if (problem) return { ok: false, problem };
    value[field] = body[field] as string;
  }
  for (const field of NULLABLE) {
    const checked = checkNullableString(body, field);
    if (!checked.ok) return checked;
    value[field] = checked.value ?? null;
  }
  return { ok: true, value: value as unknown as NewContact };
}

/**
 * Validates a PUT body (partial update). Present `first_name`/`last_name` must be non-empty strings; present
 * `phone_number`/`email` must be strings or null, and `""` or null clears them (stored as null).
 * `external_contact_id` in the body is ignored (assumption: whether it may change is not documented, docs/CHEKT-API.md#unknowns).
 */
export function validateUpdateBody(body: unknown): Validated<ContactPatch> {
  if (!isPlainObject(body)) return bad('invalid_body', 'request body must be a JSON object');
  const patch: ContactPatch = {};
  for (const field of ['first_name', 'last_name'] as const) {
    if (!(field in body) || body[field] === undefined) continue;
    const problem = checkRequiredString(body, field, false);
    if (problem) return { ok: false, problem };
    patch[field] = body[field] as string;
  }
  for (const field of NULLABLE) {
    if (!(field in body) || body[field] === undefined) continue;
    const checked = checkNullableString(body, field);
    if (!checked.ok) return checked;
    patch[field] = checked.value ?? null;
  }
  return { ok: true, value: patch };
}

function checkRequiredString(body: Record<string, unknown>, field: string, required: boolean): FieldProblem | undefined {
  const v = body[field];
  if (v === undefined || v === null) {
    return required ? { code: 'missing_field', message: `${field} is required`, field } : { code: 'invalid_field', message: `${field} must be a non-empty string`, field };
  }
  if (typeof v !== 'string') return { code: 'invalid_field', message: `${field} must be a string`, field };
  if (v.trim() === '') return { code: 'invalid_field', message: `${field} must not be empty`, field };
  return checkLength(v, field);
}

/** `undefined` = absent, `null` = clear (null or ""), else the string. */
function checkNullableString(body: Record<string, unknown>, field: string): Validated<string | null | undefined> {
  const v = body[field];
  if (v === undefined) return { ok: true, value: undefined };
  if (v === null || v === '') return { ok: true, value: null };
  if (typeof v !== 'string') return bad('invalid_field', `${field} must be a string or null`, field);
  const problem = checkLength(v, field);
  return problem ? { ok: false, problem } : { ok: true, value: v };
}

function checkLength(v: string, field: string): FieldProblem | undefined {
  if ([...v].length <= MAX_FIELD_LENGTH) return undefined;
  return { code: 'invalid_field', message: `${field} must be at most ${MAX_FIELD_LENGTH} characters`, field };
}

function bad(code: FieldProblem['code'], message: string, field?: string): { ok: false; problem: FieldProblem } {
  return { ok: false, problem: field === undefined ? { code, message } : { code, message, field } };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
