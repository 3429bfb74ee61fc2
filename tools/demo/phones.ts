import type { Faker } from '@faker-js/faker';
import { isValidPhoneNumber, parsePhoneNumberFromString } from 'libphonenumber-js';
import { isValidPhoneNumber as isValidPhoneNumberMax } from 'libphonenumber-js/max';
import type { NameLocale } from './names.js';

/**
 * Phone numbers for the demo data set, written the many ways CRM users type them. Every number produced by
 * {@link demoPhone} is valid for its region according to libphonenumber-js with both its default `min`
 * metadata and its `max` metadata (checked, not assumed). Both matter: `min` only checks lengths (the package
 * README says so), e.g. it calls "0081 3 4388 6086" a valid JP number and makes it +810081343886086.
 */

/** Countries the demo places sites in. */
export type DemoRegion = 'US' | 'KR' | 'DE' | 'FR' | 'JP' | 'MX' | 'BR' | 'RU' | 'CN' | 'SA';

/** The faker locale whose names dominate a region's sites. */
export const REGION_LOCALE: Readonly<Record<DemoRegion, NameLocale>> = {
  US: 'en_US',
  KR: 'ko',
  DE: 'de',
  FR: 'fr',
  JP: 'ja',
  MX: 'es_MX',
  BR: 'pt_BR',
  RU: 'ru',
  CN: 'zh_CN',
  SA: 'ar',
};

const US_AREA_CODES = ['201', '212', '213', '305', '312', '404', '415', '512', '602', '617', '702', '713', '718'];

/**
 * National significant number patterns (faker `fromRegExp` syntax), per region. Where a country reserves
 * numbers for fiction they are used: US 555-0100..0199 (NANPA), FR 01 99 00 xx xx (ARCEP; its mobile fiction
 * range 06 39 98 is invalid in libphonenumber's `max` metadata). Elsewhere the numbers are random and may
 * belong to someone: point the demo at the sandbox only.
 */
const NSN_PATTERNS: Readonly<Record<DemoRegion, readonly string[]>> = {
  US: US_AREA_CODES.map((area) => `${area}55501[0-9]{2}`),
  KR: ['2[2-9][0-9]{6}', '2[2-9][0-9]{7}', '10[2-9][0-9]{7}', '31[2-9][0-9]{6}'],
  DE: ['30[1-9][0-9]{7}', '89[1-9][0-9]{6}', '151[0-9]{8}'],
  FR: ['19900[0-9]{4}', '6[0-9]{8}'],
  JP: ['3[1-9][0-9]{7}', '90[1-9][0-9]{7}', '6[1-9][0-9]{7}'],
  MX: ['55[1-9][0-9]{7}', '33[1-9][0-9]{7}', '81[1-9][0-9]{7}'],
  BR: ['119[6-9][0-9]{7}', '11[2-5][0-9]{7}'],
  RU: ['495[1-9][0-9]{6}', '916[1-9][0-9]{6}'],
  CN: ['13[5-9][0-9]{8}', '10[2-9][0-9]{7}'],
  SA: ['5[0-9]{8}', '11[2-9][0-9]{6}'],
};

const NANP: ReadonlySet<DemoRegion> = new Set(['US']);

/**
 * International call prefixes as people write them before the country code ("0049 30 ..."), where the
 * region's own prefix makes the number valid when read in that region. BR (carrier-dependent) has none.
 */
const IDD_PREFIX: Readonly<Partial<Record<DemoRegion, string>>> = {
  KR: '001 ',
  DE: '00',
  FR: '00',
  JP: '010 ',
  MX: '00',
  RU: '8 10 ',
  CN: '00',
  SA: '00',
};

type Style = 'national' | 'international' | 'e164' | 'digits' | 'dotted' | 'trunk' | 'idd' | 'extension';

/** How often each way of writing is used. NANP regions have no "00" prefix; others have no dotted habit. */
const STYLE_WEIGHTS: Readonly<Record<'nanp' | 'other', ReadonlyArray<{ weight: number; value: Style }>>> = {
  nanp: [
    { weight: 30, value: 'national' },
    { weight: 15, value: 'international' },
    { weight: 10, value: 'e164' },
    { weight: 15, value: 'digits' },
    { weight: 15, value: 'dotted' },
    { weight: 5, value: 'trunk' },
    { weight: 10, value: 'extension' },
  ],
  // A CRM kept by a partner in one country (PHONE_DEFAULT_REGION=US for the demo) mostly writes foreign
  // numbers with their "+" country code; the few national or exit-code forms show the dropped-field warning.
  other: [
    { weight: 5, value: 'national' },
    { weight: 50, value: 'international' },
    { weight: 30, value: 'e164' },
    { weight: 2, value: 'digits' },
    { weight: 10, value: 'idd' },
    { weight: 3, value: 'extension' },
  ],
};

const MAX_ATTEMPTS = 50;

/**
 * A phone number valid for `region`, written in one of several styles: national ("(201) 555-0142",
 * "02-312-3456", "030 12345678"), international ("+82 2 312 3456"), E.164, national digits only, dotted or
 * with a trunk "1-" (NANP), the region's exit code before the country code ("0049 30 12345678",
 * "010 81 3 1234 5678"), or with an extension ("(201) 555-0142 x12"). Only the "+" forms stay valid when read
 * with another default region (the sync reads with one configured region, `PHONE_DEFAULT_REGION`).
 * @throws {Error} if no valid number came out of `region`'s patterns after 50 draws (a bug in the patterns).
 */
export function demoPhone(rng: Faker, region: DemoRegion): string {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const nsn = rng.helpers.fromRegExp(rng.helpers.arrayElement(NSN_PATTERNS[region]));
    const parsed = parsePhoneNumberFromString(nsn, region);
    if (!parsed?.isValid() || parsed.country !== region) continue;
    const idd = IDD_PREFIX[region];
    const styles = STYLE_WEIGHTS[NANP.has(region) ? 'nanp' : 'other'].filter((s) => s.value !== 'idd' || idd);
    const style = rng.helpers.weightedArrayElement([...styles]);
    const [national, international] = [parsed.formatNational(), parsed.formatInternational()];
    const text = writePhone(rng, style, national, international, parsed.number, idd ?? '00');
    if (isValidPhoneNumber(text, region) && isValidPhoneNumberMax(text, region)) return text;
  }
  throw new Error(`demoPhone: no valid ${region} number after ${MAX_ATTEMPTS} attempts`);
}

function writePhone(rng: Faker, style: Style, national: string, international: string, e164: string, idd: string): string {
  switch (style) {
    case 'national':
      return national;
    case 'international':
      return international;
    case 'e164':
      return e164;
    case 'digits':
      return national.replace(/\D/g, '');
    case 'dotted':
      return national.replace(/\D/g, '').replace(/^(\d{3})(\d{3})(\d{4})$/, '$1.$2.$3');
    case 'trunk':
      return `1-${national.replace(/\D/g, '').replace(/^(\d{3})(\d{3})(\d{4})$/, '$1-$2-$3')}`;
    case 'idd':
      return international.replace(/^\+/, idd);
    case 'extension': {
      const ext = rng.helpers.fromRegExp('[1-9][0-9]{0,3}');
      return `${national}${rng.helpers.arrayElement([' x', ' ext. ', ' ext ', ' #'])}${ext}`;
    }
  }
}

/**
 * Deliberately unusable phone values: each makes its contact invalid. Text only: a short digit string is no good
 * here, since libphonenumber-js with its default `min` metadata calls "12345" a valid German number.
 */
export const GARBAGE_PHONES: readonly string[] = ['call me maybe', 'see notes', '--'];

/**
 * Valid numbers that cannot receive CHeKT's verification text (docs/REACHABILITY.md), written with their
 * country code so they stay valid whatever the site's region: landlines, toll-free, premium-rate, VoIP and
 * pager numbers (fiction ranges where the country has one).
 */
export const NON_SMS_PHONES: readonly string[] = [
  '+44 20 7946 0958', // GB landline (Ofcom drama range)
  '+1 800 555 0199', // US toll-free
  '+1 900 555 0100', // US premium rate
  '+44 56 1234 5678', // GB VoIP
  '+44 76 4012 3456', // GB pager
  '+33 1 99 00 12 34', // FR landline (ARCEP fiction range)
];

/** Present-but-empty phone values, which mean "no phone" once trimmed. */
export const BLANK_PHONES: readonly string[] = ['', '  ', '\t'];

/** Whether two phone values denote the same number in `region` (E.164 compare; raw compare if unparseable). */
export function samePhone(a: string | null, b: string | null, region: DemoRegion): boolean {
  const canonical = (x: string | null) => (x === null ? null : (parsePhoneNumberFromString(x, region)?.number ?? x));
  return canonical(a) === canonical(b);
}
