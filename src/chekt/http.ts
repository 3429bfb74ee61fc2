import { parse as parseLossless } from 'lossless-json';

/** Small HTTP helpers shared by the token provider and the client. */

/**
 * The system error code behind a fetch failure, e.g. `ECONNREFUSED`, `ECONNRESET`, `UND_ERR_SOCKET`
 * (undici rejects with `TypeError('fetch failed', { cause })`). `undefined` when there is none.
 */
export function networkCode(e: unknown): string | undefined {
  // Duck-typed, not `instanceof Error`: undici's errors can come from another realm (e.g. jest's vm context).
  let cur: unknown = e;
  for (let depth = 0; depth < 4 && typeof cur === 'object' && cur !== null; depth++) {
    const { code, cause } = cur as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    cur = cause;
  }
  return undefined;
}

/** Whether `e` is fetch's "no usable response" failure (`TypeError: fetch failed`, `terminated`), any realm. */
export function isFetchFailure(e: unknown): boolean {
  return (e as { name?: unknown } | null)?.name === 'TypeError' || networkCode(e) !== undefined;
}

/** `JSON.parse` that returns `undefined` instead of throwing. */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A run of 16 digits: the shortest integer literal that can be beyond 2^53 (9007199254740993 has 16). */
const LONG_DIGITS = /\d{16}/;

/**
 * `JSON.parse` that keeps every integer exactly: an integer literal beyond `Number.MAX_SAFE_INTEGER` (2^53 − 1)
 * becomes the string of its digits (`9007199254740993` → `"9007199254740993"`), where `JSON.parse` would round it
 * to a neighbouring id. Every other number is a `number` as usual. Uses lossless-json only when the text holds
 * a run of 16 digits, so ordinary bodies pay nothing. Returns `undefined` instead of throwing.
 * See docs/CHEKT-AUTH-AND-IDS.md ("Contact ids").
 */
export function safeJsonExact(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return safeJson(text);
  try {
    return parseLossless(text, null, exactNumber);
  } catch {
    // lossless-json refuses what JSON.parse accepts in one case: a duplicated key. Precision may be lost then,
    // and the contact schema refuses an unsafe number rather than use it.
    return safeJson(text);
  }
}

function exactNumber(literal: string): number | string {
  if (/^-?\d+$/.test(literal) && !Number.isSafeInteger(Number(literal))) return literal;
  return Number(literal);
}

/**
 * Parses `Retry-After` (RFC 9110 §10.2.3): delay-seconds (decimals tolerated) or an HTTP-date, into ms from
 * `nowMs`. docs/CHEKT-API.md#rate-limits: which form CHeKT sends is unknown, so both are read.
 * @returns ms (0 for a date in the past), or `undefined` when the header is missing or unparsable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  // An HTTP-date always names a weekday and month; this keeps Date.parse from reading '-1' as a year.
  if (!/[A-Za-z]{3}/.test(v)) return undefined;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
