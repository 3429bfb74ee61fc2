/**
 * CHeKT `contact_id`s are kept as strings end to end (docs/CHEKT-AUTH-AND-IDS.md, "Contact ids"): CHeKT
 * writes them as JSON numbers, and one beyond 2^53 would be rounded by any arithmetic on doubles. Pure.
 */

const DIGITS = /^[0-9]+$/;

/**
 * Orders two `contact_id`s: decimal integers by value, exactly at any length (no conversion to a double,
 * which makes 9007199254740992 and 9007199254740993 equal); ids that are not decimal digits after them,
 * in code-unit order. Used to pick "the oldest copy" (the lowest id) deterministically.
 * @returns negative when `a` comes first, positive when `b` does, 0 when equal.
 */
export function compareContactIds(a: string, b: string): number {
  const da = DIGITS.test(a);
  const db = DIGITS.test(b);
  if (da && db) {
    const x = a.replace(/^0+(?=.)/, '');
    const y = b.replace(/^0+(?=.)/, '');
    if (x.length !== y.length) return x.length - y.length;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (da !== db) return da ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
