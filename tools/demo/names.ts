import { Faker, ar, base, de, el, en, en_US, es, es_MX, fr, he, ja, ko, pt_BR, ru, th, uk, vi, zh_CN, type LocaleDefinition } from '@faker-js/faker';

/**
 * Names and e-mail addresses for the demo data set, in many scripts and with the blemishes real CRM exports
 * have (stray whitespace, NFD text from macOS copy-paste, very long double-barrelled names).
 */

/** The faker locales the demo draws names from. The first ten are also site locales (see ./phones.ts). */
export type NameLocale = 'en_US' | 'de' | 'fr' | 'es_MX' | 'ko' | 'ja' | 'zh_CN' | 'ar' | 'ru' | 'pt_BR' | 'el' | 'he' | 'vi' | 'th' | 'uk';

/**
 * Each locale with its fallbacks, the way faker's own `allFakers` are built (locale -> language -> en -> base),
 * so a definition missing from a small locale falls back instead of throwing.
 */
const LOCALE_CHAINS: Readonly<Record<NameLocale, readonly LocaleDefinition[]>> = {
  en_US: [en_US, en, base],
  de: [de, en, base],
  fr: [fr, en, base],
  es_MX: [es_MX, es, en, base],
  ko: [ko, en, base],
  ja: [ja, en, base],
  zh_CN: [zh_CN, en, base],
  ar: [ar, en, base],
  ru: [ru, en, base],
  pt_BR: [pt_BR, en, base],
  el: [el, en, base],
  he: [he, en, base],
  vi: [vi, en, base],
  th: [th, en, base],
  uk: [uk, en, base],
};

/** Every name locale, in a fixed order (the order matters for determinism). */
export const NAME_LOCALES = Object.keys(LOCALE_CHAINS) as NameLocale[];

/** One seeded faker per locale, plus `rng`, a locale-free stream for structural choices (counts, picks). */
export interface DemoFakers {
  readonly rng: Faker;
  readonly byLocale: Readonly<Record<NameLocale, Faker>>;
}

/**
 * Creates fresh faker instances, each seeded from `seed` and its position. Fresh instances, not faker's
 * exported singletons: seeding those would change them for every other importer.
 */
export function createDemoFakers(seed: number): DemoFakers {
  const byLocale = Object.fromEntries(NAME_LOCALES.map((code, i) => [code, new Faker({ locale: [...LOCALE_CHAINS[code]], seed: seed + (i + 1) * 7919 })])) as Record<NameLocale, Faker>;
  return { rng: new Faker({ locale: [en, base], seed }), byLocale };
}

/** A plain first and last name from one locale's faker, trimmed and in NFC. */
export function personName(f: Faker): { firstName: string; lastName: string } {
  return { firstName: f.person.firstName().trim(), lastName: f.person.lastName().trim() };
}

/**
 * Applies at most one realistic blemish to a name (about one name in six): outer spaces or a tab, a doubled
 * inner space, a non-breaking space (U+00A0), or decomposed Unicode (NFD). The name stays valid: it still has
 * visible characters once whitespace is trimmed and the text is NFC-normalised.
 */
export function blemishName(rng: Faker, name: string): string {
  const nfd = name.normalize('NFD');
  const blemishes: Array<{ weight: number; value: () => string }> = [
    { weight: 80, value: () => name },
    { weight: 4, value: () => ` ${name}  ` },
    { weight: 2, value: () => `\t${name}` },
    { weight: 3, value: () => (name.includes(' ') ? name.replace(' ', '  ') : `${name} `) },
    { weight: 2, value: () => (name.includes(' ') ? name.replace(' ', '\u00a0') : `${name}\u00a0`) },
    // NFD only changes names with precomposed letters (é, ü, Hangul syllables); others keep their odds of 0.
    { weight: 9, value: () => nfd },
  ];
  return rng.helpers.weightedArrayElement(nfd === name ? blemishes.slice(0, -1) : blemishes)();
}

/** A hyphenated multi-part surname of at least `minLength` UTF-16 code units (60 by default). */
export function longLastName(f: Faker, minLength = 60): string {
  const parts: string[] = [];
  while (parts.join('-').length < minLength) parts.push(f.person.lastName().trim());
  return parts.join('-');
}

/** Whitespace-only values: a first name like this makes a contact invalid (empty once trimmed). */
export const BLANK_NAMES: readonly string[] = ['   ', '\t', '\u00a0', ' \u00a0 '];

/**
 * Values that are not e-mail addresses (zod's `z.email()` rejects each), kept verbatim so the sync has to
 * report them rather than send them.
 */
export const INVALID_EMAILS: readonly string[] = ['not-an-email', 'a@b', 'john@@example.com', 'jane.doe@', '@example.com'];

/** RFC 2606 reserved domains: demo addresses can never reach a real mailbox. */
const EMAIL_DOMAINS = ['example.com', 'example.net', 'example.org'] as const;

/**
 * A valid e-mail address derived from the name (faker transliterates non-Latin names), on a reserved domain.
 * About one in eight has an upper-cased domain and one in twenty surrounding spaces; both are still valid once
 * trimmed and lower-cased.
 */
export function demoEmail(f: Faker, rng: Faker, firstName: string, lastName: string): string {
  const provider = rng.helpers.arrayElement(EMAIL_DOMAINS);
  // A blank name part is left out, so faker draws one instead of producing ".smith@example.com".
  const parts = { firstName: firstName.trim(), lastName: lastName.trim() };
  let email = f.internet.email({
    provider,
    ...(parts.firstName ? { firstName: parts.firstName } : {}),
    ...(parts.lastName ? { lastName: parts.lastName } : {}),
  });
  if (rng.datatype.boolean({ probability: 0.12 })) email = email.replace(/@.*$/, (d) => d.toUpperCase());
  if (rng.datatype.boolean({ probability: 0.05 })) email = ` ${email} `;
  return email;
}
