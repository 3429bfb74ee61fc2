import { describe, expect, test } from '@jest/globals';
import { safeJsonExact } from '../../src/chekt/http.js';
import { chektContactListSchema, chektContactSchema } from '../../src/chekt/schemas.js';
import { compareContactIds } from '../../src/domain/contactId.js';

/** contact_id precision (docs/CHEKT-AUTH-AND-IDS.md#contact-ids): ids are exact digit strings from the body to the ledger. */

describe('safeJsonExact', () => {
  test('an integer beyond 2^53 keeps its digits; JSON.parse would round it to its neighbour', () => {
    const text = '[{"contact_id":9007199254740993,"external_contact_id":12345678901234567890,"n":1.5,"m":-3}]';
    expect((JSON.parse(text) as Array<{ contact_id: number }>)[0]?.contact_id).toBe(9_007_199_254_740_992);
    expect(safeJsonExact(text)).toEqual([{ contact_id: '9007199254740993', external_contact_id: '12345678901234567890', n: 1.5, m: -3 }]);
  });

  test('a body without a 16-digit run is parsed as usual; bad JSON is undefined', () => {
    expect(safeJsonExact('{"contact_id":42}')).toEqual({ contact_id: 42 });
    expect(safeJsonExact('{"contact_id":')).toBeUndefined();
  });

  test('the list schema keeps both neighbouring ids apart', () => {
    const list = chektContactListSchema.parse(safeJsonExact('[{"contact_id":9007199254740993},{"contact_id":9007199254740992}]'));
    expect(list.map((c) => c.contactId)).toEqual(['9007199254740993', '9007199254740992']);
  });

  test('a fraction cannot name a contact: refused in a single answer, flagged in a list', () => {
    expect(chektContactSchema.safeParse(safeJsonExact('{"contact_id":12.5}')).success).toBe(false);
    expect(chektContactListSchema.parse(safeJsonExact('[{"contact_id":12.5}]'))[0]?.unaddressable).toMatch(/contact_id 12\.5, not a whole number/);
  });
});

describe('compareContactIds', () => {
  test('orders decimal ids by value at any length, exactly', () => {
    expect(compareContactIds('9007199254740993', '9007199254740992')).toBeGreaterThan(0);
    expect(compareContactIds('9', '10')).toBeLessThan(0);
    expect(compareContactIds('007', '7')).toBe(0);
    expect(compareContactIds('123456789012345678901234567890', '123456789012345678901234567891')).toBeLessThan(0);
  });

  test('puts non-numeric ids after numeric ones, in code-unit order', () => {
    expect(['c_2', '10', 'c_1', '9'].sort(compareContactIds)).toEqual(['9', '10', 'c_1', 'c_2']);
  });
});
