import { scrubCredentialShapes } from '../scrub.js';

/**
 * Defensive parsing of CHeKT error bodies. The Partner API's error shape is not documented (docs/CHEKT-API.md#error-bodies), so every shape seen in CHeKT's other docs is accepted:
 * - envelope `{"error":{"code","message","field","request_id"}}` (CHeKT's Errors page),
 * - flat `{"code","message","field"}` or `{"message"}`, and `{"errors":[{...}]}` (first entry),
 * - RFC 6749 §5.2 `{"error":"invalid_client","error_description":"..."}` (token endpoint, docs/CHEKT-API.md#token-endpoint),
 * - CHeKT internal text `"<status>|<message>"` (CHeKT's sample `parse-error.js`, docs/CHEKT-API.md#error-bodies),
 * - plain text or HTML (whitespace collapsed), and an empty body.
 * Every string kept is scrubbed of credential shapes (../scrub.ts) and of personal data before it is capped.
 */

/** Longest `message` kept, in characters: error text goes to logs and job failure reasons. */
export const MAX_ERROR_MESSAGE_LENGTH = 500;
/** Longest `code`, `field` and `requestId` kept, in characters. */
export const MAX_ERROR_TOKEN_LENGTH = 100;

/** What could be read from an error body. Every field is `undefined` when absent. */
export interface ParsedErrorBody {
  readonly code: string | undefined;
  readonly message: string | undefined;
  readonly field: string | undefined;
  /** CHeKT's `request_id` (e.g. `req_91kxl2`), when the body has one. */
  readonly requestId: string | undefined;
  /** The status inside a `"<status>|<message>"` text body, when it is one. */
  readonly internalStatus: number | undefined;
}

const EMPTY: ParsedErrorBody = {
  code: undefined,
  message: undefined,
  field: undefined,
  requestId: undefined,
  internalStatus: undefined,
};

/**
 * Reads an error body of any shape. Never throws; unknown shapes give an object with only `message` (the text,
 * capped at {@link MAX_ERROR_MESSAGE_LENGTH} characters) or {@link EMPTY} fields.
 */
export function parseErrorBody(text: string | null | undefined): ParsedErrorBody {
  try {
    const trimmed = (text ?? '').trim();
    if (trimmed === '') return EMPTY;
    if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) {
      const json = tryJson(trimmed);
      if (json.ok) return fromJson(json.value, trimmed);
    }
    return fromText(trimmed);
  } catch {
    return EMPTY;
  }
}

function fromJson(value: unknown, raw: string): ParsedErrorBody {
  if (typeof value === 'string') return fromText(value.trim());
  if (Array.isArray(value)) return value.length > 0 ? fromJson(value[0], raw) : fromText(raw);
  if (!isRecord(value)) return fromText(raw);

  const err = value['error'];
  if (isRecord(err)) {
    return build({
      code: err['code'] ?? err['type'],
      message: err['message'] ?? err['description'],
      field: err['field'] ?? err['param'],
      requestId: err['request_id'] ?? err['requestId'] ?? value['request_id'],
    });
  }
  if (typeof err === 'string') {
    // RFC 6749 §5.2: `error` is the code, `error_description` the text. A bare `{error:"text with spaces"}` is a message.
    const looksLikeCode = /^[A-Za-z0-9_.:-]+$/.test(err);
    return build({
      code: looksLikeCode ? err : value['code'],
      message: value['error_description'] ?? value['message'] ?? (looksLikeCode ? undefined : err),
      field: value['field'],
      requestId: value['request_id'] ?? value['requestId'],
    });
  }
  const errors = value['errors'];
  if (Array.isArray(errors) && errors.length > 0 && isRecord(errors[0])) return fromJson(errors[0], raw);
  const parsed = build({
    code: value['code'],
    message: value['message'] ?? value['msg'] ?? value['detail'] ?? value['title'],
    field: value['field'],
    requestId: value['request_id'] ?? value['requestId'],
  });
  if (parsed.code === undefined && parsed.message === undefined) return { ...parsed, message: capText(raw) };
  return parsed;
}

function fromText(text: string): ParsedErrorBody {
  if (text === '') return EMPTY;
  const internal = /^(\d{3})\s*\|\s*([\s\S]*)$/.exec(text);
  if (internal) {
    return { ...EMPTY, internalStatus: Number(internal[1]), message: capText(internal[2] ?? '') };
  }
  return { ...EMPTY, message: capText(text) };
}

function build(raw: { code: unknown; message: unknown; field: unknown; requestId: unknown }): ParsedErrorBody {
  return {
    code: token(raw.code),
    message: raw.message === undefined ? undefined : capText(scalar(raw.message) ?? ''),
    field: token(raw.field),
    requestId: token(raw.requestId),
    internalStatus: undefined,
  };
}

function token(v: unknown): string | undefined {
  const s = scalar(v);
  return s === undefined || s.trim() === '' ? undefined : cap(scrubCredentialShapes(s.trim()), MAX_ERROR_TOKEN_LENGTH);
}

function capText(s: string): string | undefined {
  // Collapse whitespace so HTML error pages and stack traces stay one short log line.
  const flat = scrubPersonalData(
    scrubCredentialShapes(s)
      .replace(/<[^>]{0,200}>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
  return flat === '' ? undefined : cap(flat, MAX_ERROR_MESSAGE_LENGTH);
}

/** A date such as 2026-01-15 is not a phone number. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Masks what looks like an email address or a phone number in an error message. CHeKT may echo the rejected
 * input, and error text goes to logs, the ledger and run reports, which must never hold contacts' personal
 * data. Digit runs of 7 or more (with spaces, dots, dashes, parentheses or a leading +) count as phones.
 */
export function scrubPersonalData(text: string): string {
  return text.replace(/[^\s@'"<>(),;:]+@[^\s@'"<>(),;:]+/g, '[email]').replace(/\+?\d[\d\s().-]{5,}\d/g, (m) => (m.replace(/\D/g, '').length >= 7 && !ISO_DATE.test(m) ? '[phone]' : m));
}

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v))
    return (
      v
        .map((x) => scalar(x) ?? '')
        .filter(Boolean)
        .join(', ') || undefined
    );
  return undefined;
}

function cap(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
