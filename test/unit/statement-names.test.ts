import { describe, expect, it } from '@jest/globals';
import { statementNames } from '../../src/source/statementNames.js';

/** Names of prepared statements (src/source/db.ts): only repeated texts are prepared, within limits. */
describe('statementNames', () => {
  it('a text seen once stays unnamed; seen again it gets a name, the same one ever after', () => {
    const name = statementNames();
    expect(name({ sql: 'SELECT 1' })).toBe('');
    expect(name({ sql: 'SELECT 1' })).toBe('cks_1');
    expect(name({ sql: 'SELECT 1' })).toBe('cks_1');
    expect(name({ sql: 'SELECT 2' })).toBe('');
    expect(name({ sql: 'SELECT 2' })).toBe('cks_2');
    expect(name({ sql: 'SELECT 1' })).toBe('cks_1');
  });

  it('names at most maxNamed texts, never a text longer than maxLength', () => {
    const name = statementNames({ maxNamed: 2, maxLength: 20 });
    for (const sql of ['a', 'b', 'c']) {
      name({ sql });
      name({ sql });
    }
    expect(['a', 'b', 'c'].map((sql) => name({ sql }))).toEqual(['cks_1', 'cks_2', '']);
    const long = 'x'.repeat(21);
    expect([name({ sql: long }), name({ sql: long })]).toEqual(['', '']);
  });

  it('forgets the texts seen once past maxSeen, so one-off texts cannot fill memory', () => {
    const name = statementNames({ maxSeen: 2 });
    name({ sql: 'a' });
    name({ sql: 'b' });
    name({ sql: 'c' }); // the set held two: emptied, then 'c' is remembered
    expect(name({ sql: 'a' })).toBe('');
    expect(name({ sql: 'c' })).toBe('cks_1');
  });
});
