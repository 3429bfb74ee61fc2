/**
 * Text normalisation for contact fields. Pure.
 *
 * Rule (docs/SAFETY.md#data-rules-normalisation-and-validation): whitespace trimmed and collapsed, Unicode
 * normalised to NFC, and null, empty and missing are equal. Control and zero-width format characters other
 * than the zero-width joiner (needed by emoji and some scripts) are removed.
 */

/** Characters removed before comparing: C0/C1 controls, soft hyphen, zero-width space/non-joiner, BOM, bidi marks and isolates. */
const INVISIBLE = /[\u0000-\u0008\u000E-\u001F\u007F-\u009F\u00AD\u200B\u200C\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/g;
/** Any run of Unicode white space (includes NBSP, ideographic space, tabs and newlines). */
const SPACE_RUN = /[\s\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+/g;

/**
 * Normalises free text: NFC, invisible characters dropped, white space trimmed and collapsed to one space.
 * Returns null for null, undefined, and strings that are empty after that.
 * Input must be well-formed UTF-16 (see {@link isWellFormedText}); lone surrogates are kept as they are.
 */
export function normalizeText(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  // NFC after removing invisibles: a removed zero-width space between "e" and U+0301 would otherwise block
  // composition and leave a non-NFC result that never equals the same name read back from CHeKT.
  // A zero-width joiner is kept inside text (emoji sequences, Indic scripts need it), dropped at either end.
  const out = value
    .replace(INVISIBLE, '')
    .normalize('NFC')
    .replace(SPACE_RUN, ' ')
    .trim()
    .replace(/^\u200D+|\u200D+$/g, '')
    .trim();
  return out === '' ? null : out;
}

/** True when `value` has no lone surrogate halves (broken Unicode that CHeKT could not store). */
export function isWellFormedText(value: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);
}

/**
 * Why PostgreSQL `text` cannot hold `value` faithfully, or null when it can: a NUL is refused outright
 * (SQLSTATE 22021), and a lone surrogate half would be stored as U+FFFD, so the value read back differs.
 * Used on every text input of the HTTP API and CLI before it reaches a query (docs/CHEKT-AUTH-AND-IDS.md).
 */
export function storableTextProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'contains a NUL character';
  if (!isWellFormedText(value)) return 'contains a lone UTF-16 surrogate (broken Unicode)';
  return null;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Length in Unicode code points (what a database `varchar(n)` counts). */
export function codePointLength(value: string): number {
  let n = 0;
  for (const _ of value) n += 1;
  return n;
}

/**
 * Cuts `value` to at most `maxCodePoints` code points without ever splitting a user-perceived character
 * (grapheme cluster: a letter with its combining marks, an emoji sequence, a surrogate pair).
 * Trailing white space left by the cut is trimmed.
 */
export function truncateText(value: string, maxCodePoints: number): string {
  if (codePointLength(value) <= maxCodePoints) return value;
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(value)) {
    const len = codePointLength(segment);
    if (used + len > maxCodePoints) break;
    out += segment;
    used += len;
  }
  return out.trimEnd();
}
