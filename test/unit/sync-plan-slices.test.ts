import { describe, expect, it } from '@jest/globals';
import { planChanges, type ChangedRow, type RemovedRow } from '../../src/domain/changes.js';
import { planChangesInSlices } from '../../src/sync/planSlices.js';

const rules = { defaultRegion: 'US', phoneFormat: 'E164' as const, maxNameLength: 100, maxEmailLength: 254 };

function rows(n: number): ChangedRow[] {
  return Array.from({ length: n }, (_, i) => ({
    contact: {
      id: `c-${i}`,
      crmSiteId: 's1',
      firstName: i % 7 === 3 ? ' ' : 'Ada',
      lastName: `Lovelace ${i}`,
      phoneNumber: i % 5 === 0 ? 'not a phone' : `(212) 736-${1000 + i}`,
      email: null,
      deletedAt: null,
      updatedAt: new Date(0),
    },
    crmSiteId: 's1',
    dealerId: '1',
    siteId: String(i % 3),
    fingerprint: `fp-${i}`,
    chektContactId: i % 2 ? String(i) : null,
    lastSentHash: null,
    pending: false,
  }));
}
const removed: RemovedRow[] = [{ crmSiteId: 's1', dealerId: '1', siteId: '0', externalContactId: 'gone', chektContactId: '9' }];

describe('planChangesInSlices', () => {
  it('plans exactly what one planChanges call plans, in the same order', async () => {
    const changed = rows(2345);
    expect(await planChangesInSlices(changed, removed, rules, 100)).toEqual(planChanges(changed, removed, rules));
  });

  it('gives the event loop back between slices', async () => {
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns += 1;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    await planChangesInSlices(rows(1000), [], rules, 100);
    spinning = false;
    // 10 slices: other callbacks ran between them (one planChanges call would have let none run).
    expect(turns).toBeGreaterThanOrEqual(9);
  });
});
