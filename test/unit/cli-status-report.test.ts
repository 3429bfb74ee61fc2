import { fitColumns, formatOverview } from '../../src/cli/statusReport.js';
import type { StatusOverview } from '../../src/source/readModel/overview.js';

/** `npm run status` tables fit the terminal: widths, wrapping and the ellipsis (full text stays in --json). */

describe('fitColumns', () => {
  it('keeps natural widths when they fit', () => {
    expect(fitColumns([10, 20, 5], 35)).toEqual([10, 20, 5]);
    expect(fitColumns([10, 20, 5], Infinity)).toEqual([10, 20, 5]);
  });

  it('narrows the widest columns to one cap, never below min(natural, 6)', () => {
    // 10 + 60 + 30 = 100 into 50: cap 20 gives 10 + 20 + 20 = 50.
    expect(fitColumns([10, 60, 30], 50)).toEqual([10, 20, 20]);
    expect(fitColumns([4, 100], 20)).toEqual([4, 16]);
    // Too narrow for anything: the floors.
    expect(fitColumns([3, 40, 40], 5)).toEqual([3, 6, 6]);
  });

  it("keeps each column's longest word whole when those fit, so only text wraps", () => {
    // An id of 36 characters (one word) and a reason of 80 whose longest word is 12: the reason narrows.
    expect(fitColumns([36, 80], 70, [36, 12])).toEqual([36, 34]);
    // The whole words do not fit: a long word is cut to 12, short ones stay whole.
    expect(fitColumns([36, 9, 20], 31, [36, 9, 10])).toEqual([12, 9, 10]);
    // Not even that: the long word goes down to 6 first, the short words stay whole.
    expect(fitColumns([36, 9, 20], 26, [36, 9, 10])).toEqual([7, 9, 10]);
    // Nothing fits: the plain floors.
    expect(fitColumns([36, 80], 10, [36, 12])).toEqual([6, 6]);
  });
});

const longReason = 'CHeKT answered 400 on phone_number: the number is not valid for the region given, so the contact was not created';
const overview: StatusOverview = {
  at: '2026-12-01T10:00:00.000Z',
  holds: [],
  unreachableSites: [],
  failures: {
    total: 1,
    items: [{ site: '10001/12', externalContactId: 'crm-contact-0000000000000000000000000000000000042', kind: 'create', reason: longReason, at: '2026-12-01T09:59:00.000Z' }],
  },
  oldestUnsyncedChange: null,
  runs: [],
} as unknown as StatusOverview;

describe('formatOverview at a terminal width', () => {
  it('every line fits 80 columns; the reason wraps word by word; an over-long id ends in an ellipsis', () => {
    const text = formatOverview(overview, { width: 80 });
    const lines = text.split('\n');
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
    const reasonColumn = lines
      .filter((l) => l.startsWith('│'))
      .map((l) => l.split('│')[4]!.trim())
      .filter(Boolean);
    expect(reasonColumn.slice(1).join(' ')).toBe(longReason);
    expect(text).toMatch(/crm-contact-0+…/);
    expect(text).not.toContain('crm-contact-0000000000000000000000000000000000042');
  });

  it('without a width, nothing is wrapped or cut', () => {
    const text = formatOverview(overview);
    expect(text).toContain(longReason);
    expect(text).toContain('crm-contact-0000000000000000000000000000000000042');
  });
});
