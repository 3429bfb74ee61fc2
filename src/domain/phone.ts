import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

/**
 * Phone numbers are compared in one canonical form (E.164 plus extension) parsed by libphonenumber-js with
 * its full ("max") metadata, so "(201) 555-0123", "201.555.0123" and "+1 201 555 0123" are one number.
 * The seed's best practice "Validate phone numbers before submission" (seed, "Best Practices").
 */

/** How phone numbers are written when sent to CHeKT (config `PHONE_FORMAT`, default E164). */
export type PhoneFormat = 'E164' | 'NATIONAL_DIGITS' | 'INTERNATIONAL';

/** A parsed phone: its canonical comparison key and the text to send. */
export interface ParsedPhone {
  /** E.164 plus `;ext=N` when there is an extension, e.g. `+12015550123;ext=5`. */
  readonly canonical: string;
  /**
   * The number written in the configured {@link PhoneFormat} (NATIONAL_DIGITS falls back to E.164 outside the
   * default region); an extension is appended as ` ext. N`.
   */
  readonly formatted: string;
}

/** Result of {@link parsePhone}: a valid number, or the reason it is not one. */
export type PhoneParseResult = { readonly ok: true; readonly phone: ParsedPhone } | { readonly ok: false; readonly reason: string };

/**
 * Parses `raw` (already trimmed, non-empty) as a phone number, using `defaultRegion` (ISO 3166-1 alpha-2)
 * for numbers written without a country code. Only numbers libphonenumber-js considers valid are accepted.
 */
export function parsePhone(raw: string, defaultRegion: string, format: PhoneFormat): PhoneParseResult {
  // RFC 3966 `tel:` URIs (scheme case-insensitive): libphonenumber-js reads them only in extract mode, which
  // would also pull numbers out of free text, so the scheme is dropped here instead.
  const text = raw.replace(/^tel:/i, '');
  const parsed = parsePhoneNumberFromString(text, { defaultCountry: defaultRegion as CountryCode, extract: false });
  if (!parsed) return { ok: false, reason: 'phone_number is not a phone number' };
  if (!parsed.isValid()) return { ok: false, reason: `phone_number is not a valid number (region ${parsed.country ?? defaultRegion})` };
  const ext = parsed.ext ? String(parsed.ext) : undefined;
  // National digits are only unambiguous inside the default region; other numbers keep their country code.
  const base =
    format === 'INTERNATIONAL'
      ? parsed.formatInternational({ formatExtension: (number) => number }).trim()
      : format === 'NATIONAL_DIGITS' && parsed.country === defaultRegion
        ? String(parsed.nationalNumber)
        : parsed.number;
  return {
    ok: true,
    phone: { canonical: ext ? `${parsed.number};ext=${ext}` : parsed.number, formatted: ext ? `${base} ext. ${ext}` : base },
  };
}
