import { parseSiteKey, siteKey, type SiteRef } from '../../src/domain/site.js';

describe('site key', () => {
  it('is dealerId/siteId, from a ref or from two columns alike', () => {
    expect(siteKey({ dealerId: '10001', siteId: '42' })).toBe('10001/42');
    expect(siteKey('10001', '42')).toBe('10001/42');
  });

  it('reads back every ref it was built from, including ids holding "/" or "%"', () => {
    const refs: SiteRef[] = [
      { dealerId: '10001', siteId: '42' },
      { dealerId: 'd/1', siteId: '4/2' },
      { dealerId: '100%', siteId: '%2F' },
      { dealerId: '%/', siteId: 'x%25y' },
    ];
    for (const ref of refs) expect(parseSiteKey(siteKey(ref))).toEqual(ref);
    expect(siteKey({ dealerId: 'd/1', siteId: '4/2' })).toBe('d%2F1/4%2F2');
    expect(new Set(refs.map((r) => siteKey(r))).size).toBe(refs.length);
  });

  it('trims the parts typed by a person', () => {
    expect(parseSiteKey(' 10001 / 42 ')).toEqual({ dealerId: '10001', siteId: '42' });
  });

  it.each([['10001'], ['10001/'], ['/42'], ['a/b/c'], [' / ']])('refuses %j, naming the value and the expected form', (value) => {
    expect(() => parseSiteKey(value)).toThrow(`invalid site ${JSON.stringify(value)}: expected <dealerId>/<siteId>, e.g. 10001/42`);
  });

  it('refuses text PostgreSQL cannot store', () => {
    expect(() => parseSiteKey('10001/4\u00002')).toThrow(/invalid site .*NUL/);
  });

  it('cuts a long value at 80 characters in the message', () => {
    const long = 'x'.repeat(200);
    expect(() => parseSiteKey(long)).toThrow(`invalid site ${JSON.stringify(`${'x'.repeat(80)}…`)}`);
  });
});
