import { parsePhone, type PhoneParseResult } from '../../src/domain/phone.js';

/** The parsed phone, or a failed expectation naming the reason. */
function ok(result: PhoneParseResult): { canonical: string; formatted: string; kind: string; extension?: string } {
  if (!result.ok) throw new Error(`expected a valid phone, got: ${result.reason}`);
  return result.phone;
}

describe('parsePhone: one canonical form for many spellings', () => {
  it.each(['(201) 555-0123', '201.555.0123', '+1 201 555 0123', '2015550123', '+1 (201) 555-0123', 'tel:+1-201-555-0123'])('%s -> +12015550123', (raw) => {
    expect(ok(parsePhone(raw, 'US', 'E164'))).toEqual({ canonical: '+12015550123', formatted: '+12015550123', kind: 'fixed_line_or_mobile' });
  });

  it('reads an RFC 3966 tel: URI with an extension', () => {
    expect(ok(parsePhone('tel:+1-201-555-0123;ext=5', 'US', 'E164'))).toEqual({ canonical: '+12015550123', formatted: '+12015550123', kind: 'fixed_line_or_mobile', extension: '5' });
  });

  it('reads a KR number written with its country code under default region US', () => {
    expect(ok(parsePhone('+82 2-312-3456', 'US', 'E164')).canonical).toBe('+8223123456');
  });

  it('reads a KR national number only when the default region is KR', () => {
    expect(ok(parsePhone('02-312-3456', 'KR', 'E164')).canonical).toBe('+8223123456');
    const us = parsePhone('02-312-3456', 'US', 'E164');
    expect(us).toEqual({ ok: false, reason: 'phone_number is not a valid number (region US)' });
  });
});

describe('parsePhone: extensions are parsed, never sent (an SMS cannot dial an extension)', () => {
  it.each([
    ['E164', '+12015550123'],
    ['NATIONAL_DIGITS', '2015550123'],
    ['INTERNATIONAL', '+1 201 555 0123'],
  ] as const)('drops the extension from the canonical key and from %s text', (format, formatted) => {
    expect(ok(parsePhone('201-555-0123 ext. 5', 'US', format))).toEqual({ canonical: '+12015550123', formatted, kind: 'fixed_line_or_mobile', extension: '5' });
  });

  it.each([
    ['+1 (201) 555-0100 ext 99999999', '+12015550100', '99999999'],
    ['(201) 555-0199 x12', '+12015550199', '12'],
    ['201-555-0123;ext=5', '+12015550123', '5'],
  ])('%s is sent as %s (extension %s kept out)', (raw, e164, extension) => {
    const p = ok(parsePhone(raw, 'US', 'E164'));
    expect([p.formatted, p.canonical, p.extension]).toEqual([e164, e164, extension]);
  });
});

describe('parsePhone: output formats', () => {
  it('E164 writes +<country><number>', () => {
    expect(ok(parsePhone('(201) 555-0123', 'US', 'E164')).formatted).toBe('+12015550123');
    expect(ok(parsePhone('+82 2-312-3456', 'US', 'E164')).formatted).toBe('+8223123456');
  });

  it('NATIONAL_DIGITS writes only the national digits for a number in the default region', () => {
    expect(ok(parsePhone('+1 201 555 0123', 'US', 'NATIONAL_DIGITS')).formatted).toBe('2015550123');
    expect(ok(parsePhone('02-312-3456', 'KR', 'NATIONAL_DIGITS')).formatted).toBe('23123456');
  });

  it('NATIONAL_DIGITS falls back to E.164 for a number outside the default region', () => {
    expect(ok(parsePhone('+82 2-312-3456', 'US', 'NATIONAL_DIGITS'))).toEqual({ canonical: '+8223123456', formatted: '+8223123456', kind: 'fixed_line' });
    // +1 204 is Canada: same country calling code, different region, so national digits would be ambiguous.
    expect(ok(parsePhone('+1 204 555 0123', 'US', 'NATIONAL_DIGITS')).formatted).toBe('+12045550123');
  });

  it('NATIONAL_DIGITS output parses back to the same canonical under the same default region', () => {
    for (const [raw, region] of [
      ['(201) 555-0123', 'US'],
      ['02-312-3456', 'KR'],
    ] as const) {
      const first = ok(parsePhone(raw, region, 'NATIONAL_DIGITS'));
      expect(ok(parsePhone(first.formatted, region, 'NATIONAL_DIGITS')).canonical).toBe(first.canonical);
    }
  });

  it('INTERNATIONAL writes the spaced international form', () => {
    expect(ok(parsePhone('201.555.0123', 'US', 'INTERNATIONAL')).formatted).toBe('+1 201 555 0123');
    expect(ok(parsePhone('02-312-3456', 'KR', 'INTERNATIONAL')).formatted).toBe('+82 2 312 3456');
  });
});

describe('parsePhone: invalid input', () => {
  it('free text is not a phone number, with a reason', () => {
    expect(parsePhone('call me maybe', 'US', 'E164')).toEqual({ ok: false, reason: 'phone_number is not a phone number' });
  });

  it.each(['555-0100', '(555) 123-4567', '12345', '00 44 20 7946 0958'])('%s is not a valid US number', (raw) => {
    expect(parsePhone(raw, 'US', 'E164')).toEqual({ ok: false, reason: 'phone_number is not a valid number (region US)' });
  });

  it('does not convert vanity letters', () => {
    expect(parsePhone('1-800-FLOWERS', 'US', 'E164').ok).toBe(false);
    expect(ok(parsePhone('1-800-356-9377', 'US', 'E164')).canonical).toBe('+18003569377');
  });

  it('understands the US exit code 011 and non-ASCII digits', () => {
    expect(ok(parsePhone('011 44 20 7946 0958', 'US', 'E164')).canonical).toBe('+442079460958');
    expect(ok(parsePhone('\uFF12\uFF10\uFF11\uFF15\uFF15\uFF15\uFF10\uFF11\uFF12\uFF13', 'US', 'E164')).canonical).toBe('+12015550123');
    expect(ok(parsePhone('\u0662\u0660\u0661\u0665\u0665\u0665\u0660\u0661\u0662\u0663', 'US', 'E164')).canonical).toBe('+12015550123');
  });
});
