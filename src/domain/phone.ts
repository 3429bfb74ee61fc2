import { parsePhoneNumberFromString, type CountryCode, type NumberType } from 'libphonenumber-js/max';

/**
 * Phone numbers are compared in one canonical form (E.164) parsed by libphonenumber-js with its full ("max")
 * metadata, so "(201) 555-0123", "201.555.0123" and "+1 201 555 0123" are one number. CHeKT's "Best
 * Practices" ask to validate phone numbers before sending them (docs/CHEKT-API.md#contacts-endpoints).
 *
 * Extensions (`ext 99`, `x12`, `;ext=5`) are parsed but never sent: CHeKT texts its verification link to the
 * number, an SMS cannot dial an extension, and a strict CHeKT refuses `+12015550100 ext. 5` with a 400 on
 * `phone_number` (docs/REACHABILITY.md). The caller warns that it was left out.
 */

/** How phone numbers are written when sent to CHeKT (config `PHONE_FORMAT`, default E164). */
export type PhoneFormat = 'E164' | 'NATIONAL_DIGITS' | 'INTERNATIONAL';

/**
 * libphonenumber-js's number type in snake case (`MOBILE` → `mobile`), `unknown` when its metadata cannot
 * tell (a valid number outside every typed range).
 */
export type NumberKind = 'mobile' | 'fixed_line' | 'fixed_line_or_mobile' | 'voip' | 'toll_free' | 'premium_rate' | 'shared_cost' | 'personal_number' | 'pager' | 'uan' | 'voicemail' | 'unknown';

/** A parsed phone: its canonical comparison key, the text to send, its type and any extension left out. */
export interface ParsedPhone {
  /** E.164, e.g. `+12015550123` (never an extension). */
  readonly canonical: string;
  /** The number written in the configured {@link PhoneFormat} (NATIONAL_DIGITS falls back to E.164 outside the default region). */
  readonly formatted: string;
  /** The number's type by libphonenumber-js's metadata. */
  readonly kind: NumberKind;
  /** The extension written after the number, when there was one (not part of `canonical` or `formatted`). */
  readonly extension?: string;
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
  // National digits are only unambiguous inside the default region; other numbers keep their country code.
  const formatted =
    format === 'INTERNATIONAL'
      ? parsed.formatInternational({ formatExtension: (number) => number }).trim()
      : format === 'NATIONAL_DIGITS' && parsed.country === defaultRegion
        ? String(parsed.nationalNumber)
        : parsed.number;
  const phone: ParsedPhone = { canonical: parsed.number, formatted, kind: numberKind(parsed.getType()) };
  return { ok: true, phone: parsed.ext ? { ...phone, extension: String(parsed.ext) } : phone };
}

function numberKind(type: NumberType): NumberKind {
  return type === undefined ? 'unknown' : (type.toLowerCase() as NumberKind);
}
