import type { ChektContact } from '../../src/domain/chektContact.js';
import { DEFAULT_RULES, prepareContact, type CrmContact, type DesiredContact } from '../../src/domain/contact.js';
import { classifyPhone, contactReach, echoReachProblem, isSmsCapable, siteReach, type CountedContact, type PhoneType } from '../../src/domain/reach.js';

/** Real numbering plans (libphonenumber-js "max" metadata); several countries, every type the rule names. */
describe('classifyPhone: real numbers of several countries', () => {
  it.each([
    ['+44 7911 123456', 'GB mobile', 'mobile', true],
    ['+44 20 7946 0958', 'GB London landline', 'fixed_line', false],
    ['+44 800 123 4567', 'GB freephone', 'toll_free', false],
    ['+44 870 123 4567', 'GB 087x', 'premium_rate', false],
    ['+44 70 0012 3456', 'GB personal number', 'personal_number', true],
    ['+44 56 1234 5678', 'GB 056 VoIP', 'voip', false],
    ['+44 76 4012 3456', 'GB pager', 'pager', false],
    ['+44 55 1123 4567', 'GB 055 corporate', 'uan', false],
    ['+49 151 23456789', 'DE mobile', 'mobile', true],
    ['+49 30 1234567', 'DE Berlin landline', 'fixed_line', false],
    ['+33 6 12 34 56 78', 'FR mobile', 'mobile', true],
    ['+33 1 42 68 53 00', 'FR Paris landline', 'fixed_line', false],
    ['+33 9 12 34 56 78', 'FR 09 VoIP', 'voip', false],
    ['+81 90-1234-5678', 'JP mobile', 'mobile', true],
    ['+81 3-1234-5678', 'JP Tokyo landline', 'fixed_line', false],
    ['+61 412 345 678', 'AU mobile', 'mobile', true],
    ['+61 2 9876 5432', 'AU Sydney landline', 'fixed_line', false],
    ['+55 11 98765-4321', 'BR mobile', 'mobile', true],
    ['+55 11 3333-4444', 'BR landline', 'fixed_line', false],
    ['+82 10-1234-5678', 'KR mobile', 'mobile', true],
    ['+82 2-312-3456', 'KR Seoul landline', 'fixed_line', false],
    ['(201) 555-0123', 'US (NANP: mobile or landline)', 'fixed_line_or_mobile', true],
    ['+1 416 555 0123', 'CA (NANP)', 'fixed_line_or_mobile', true],
    ['1-800-555-0199', 'US toll-free', 'toll_free', false],
    ['(888) 555-0100', 'US toll-free 888', 'toll_free', false],
    ['+1 900 555 0100', 'US premium rate', 'premium_rate', false],
  ] as const)('%s (%s) is %s, SMS-capable %s', (raw, _what, type, sms) => {
    expect(classifyPhone(raw, DEFAULT_RULES)).toBe(type);
    expect(isSmsCapable(type)).toBe(sms);
  });

  it('no phone is none, a bad one invalid; bare international digits are read as in CHeKT lists', () => {
    expect([classifyPhone(null, DEFAULT_RULES), classifyPhone('  ', DEFAULT_RULES), classifyPhone('call me', DEFAULT_RULES)]).toEqual(['none', 'none', 'invalid']);
    expect(classifyPhone('447911123456', DEFAULT_RULES)).toBe('mobile');
  });

  it('a national number is read in PHONE_DEFAULT_REGION', () => {
    expect(classifyPhone('010-1234-5678', { defaultRegion: 'KR' })).toBe('mobile');
    expect(classifyPhone('07911 123456', { defaultRegion: 'GB' })).toBe('mobile');
    expect(classifyPhone('07911 123456', { defaultRegion: 'US' })).toBe('invalid');
  });

  it('only mobile, fixed_line_or_mobile and personal_number count as SMS-capable', () => {
    const all: PhoneType[] = [
      'mobile',
      'fixed_line',
      'fixed_line_or_mobile',
      'voip',
      'toll_free',
      'premium_rate',
      'shared_cost',
      'personal_number',
      'pager',
      'uan',
      'voicemail',
      'unknown',
      'invalid',
      'none',
    ];
    expect(all.filter(isSmsCapable)).toEqual(['mobile', 'fixed_line_or_mobile', 'personal_number']);
  });
});

const crm = (over: Partial<CrmContact> = {}): CrmContact => ({
  id: 'c1',
  crmSiteId: 's',
  firstName: 'Ann',
  lastName: 'Lee',
  phoneNumber: '+447911123456',
  email: null,
  deletedAt: null,
  ...over,
});
const counted = (over: Partial<CrmContact>, problem: string | null = null): CountedContact => {
  const c = crm(over);
  return { ...contactReach(prepareContact(c), c.phoneNumber, DEFAULT_RULES, problem), synced: prepareContact(c).ok };
};

describe('contactReach and siteReach', () => {
  it('a skipped contact never counts; a reach problem from the echo check takes an SMS-capable phone out', () => {
    const reach = (c: CrmContact, problem: string | null) => contactReach(prepareContact(c), c.phoneNumber, DEFAULT_RULES, problem);
    expect(reach(crm({ firstName: '' }), null)).toEqual({ phoneType: 'mobile', smsCapable: false, reachProblem: null });
    expect(reach(crm(), 'CHeKT dropped the phone number it was sent')).toEqual({
      phoneType: 'mobile',
      smsCapable: false,
      reachProblem: 'CHeKT dropped the phone number it was sent',
    });
    // A problem recorded for a landline says nothing new: it was never reachable.
    expect(reach(crm({ phoneNumber: '+442079460958' }), 'x')).toEqual({ phoneType: 'fixed_line', smsCapable: false, reachProblem: null });
  });

  it('a site of landline and toll-free numbers is unreachable, with the reason in words', () => {
    expect(siteReach([counted({ phoneNumber: '+442079460958' }), counted({ phoneNumber: '1-800-555-0199' })])).toEqual({
      contacts: 2,
      smsCapable: 0,
      phoneTypes: { fixed_line: 1, toll_free: 1 },
      reachProblems: 0,
      notSynced: 0,
      reason: '2 contacts: 1 landline, 1 toll-free',
    });
    expect(siteReach([counted({ phoneNumber: '+33142685300' }), counted({ phoneNumber: null })]).reason).toBe('2 contacts: 1 landline, 1 without a phone');
    expect(siteReach([]).reason).toBe('no contacts');
  });

  it('one US number makes a site reachable', () => {
    const r = siteReach([counted({ phoneNumber: '+442079460958' }), counted({ phoneNumber: '(201) 555-0123' })]);
    expect([r.smsCapable, r.reason]).toEqual([1, '2 contacts: 1 mobile or landline (North America), 1 landline']);
  });

  it('names echo problems and contacts not synced', () => {
    const r = siteReach([counted({}, 'CHeKT dropped the phone number it was sent'), counted({ lastName: ' ' }), counted({ phoneNumber: 'call me' })]);
    expect([r.smsCapable, r.reason]).toEqual([0, '3 contacts: 1 mobile, 1 with an invalid phone, 1 whose phone CHeKT did not keep, 1 not synced (invalid contact)']);
  });
});

describe('echoReachProblem (the echo check after a create or update)', () => {
  const sent = (phoneNumber: string | null): DesiredContact => {
    const p = prepareContact(crm({ phoneNumber }));
    if (!p.ok) throw new Error(p.reason);
    return p.contact;
  };
  const echo = (phoneNumber: string | null): ChektContact => ({ contactId: '1', externalContactId: 'c1', firstName: 'Ann', lastName: 'Lee', phoneNumber, email: null, createdAt: null });

  it('CHeKT kept the number (in any spelling, bare digits included): no problem', () => {
    expect(echoReachProblem(sent('+447911123456'), echo('+44 7911 123456'), DEFAULT_RULES)).toBeNull();
    expect(echoReachProblem(sent('(201) 555-0123'), echo('12015550123'), DEFAULT_RULES)).toBeNull();
  });

  it('flags a dropped phone, other digits, an extension kept and a number no longer SMS-capable', () => {
    expect(echoReachProblem(sent('+447911123456'), echo(null), DEFAULT_RULES)).toBe('CHeKT dropped the phone number it was sent');
    expect(echoReachProblem(sent('+447911123456'), echo(' '), DEFAULT_RULES)).toBe('CHeKT dropped the phone number it was sent');
    expect(echoReachProblem(sent('+447911123456'), echo('+447911123457'), DEFAULT_RULES)).toBe('CHeKT stored a phone number with other digits than it was sent');
    expect(echoReachProblem(sent('(201) 555-0123'), echo('555-0123'), DEFAULT_RULES)).toBe('CHeKT stored a phone number with other digits than it was sent');
    expect(echoReachProblem(sent('(201) 555-0123'), echo('+1 201 555 0123 ext. 5'), DEFAULT_RULES)).toBe('CHeKT stored the phone number with an extension');
  });

  it('nothing to lose when no SMS-capable phone was sent', () => {
    expect(echoReachProblem(sent(null), echo(null), DEFAULT_RULES)).toBeNull();
    expect(echoReachProblem(sent('+442079460958'), echo(null), DEFAULT_RULES)).toBeNull();
  });
});
