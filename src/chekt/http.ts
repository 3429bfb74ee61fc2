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

/**
 * Parses `Retry-After` (RFC 9110 §10.2.3): delay-seconds (decimals tolerated) or an HTTP-date, into ms from
 * `nowMs`. chekt-api.md §3: which form CHeKT sends is unknown, so both are read.
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
