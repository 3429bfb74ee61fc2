import { describe, expect, test } from '@jest/globals';
import { readPlanSummary, type PlanSummary } from '../../src/domain/runSummary.js';
import { siteKey } from '../../src/domain/site.js';

/** The nine counts every version of the planner wrote. */
const planTotals = { sites: 2, creates: 3, updates: 1, deletes: 1, unchanged: 4, adopted: 0, invalid: 1, warnings: 1, unmanaged: 2 };
const invalid = [{ site: '9/1', externalContactId: 'inv-1', reason: 'first_name is empty' }];
const warnings = [{ site: '9/1', externalContactId: 'w-1', reason: 'email is not a valid address; field not sent' }];

/** Shape 1 (the first planner): no unmappedSites, mode, recorded, held or reachability. */
const v1 = {
  totals: planTotals,
  rejectedSites: [{ ref: '9/404', reason: 'no CRM site maps to it' }],
  siteErrors: [],
  invalid,
  warnings,
  unmanagedBySite: { '9/1': 2 },
  enqueue: { added: 5, joined: 0, replaced: 0 },
};
/** Shape 2: unmappedSites added. */
const v2 = { ...v1, unmappedSites: [{ site: '9/22', contacts: 4 }] };
/** Shape 3: change ticks and deletion holds. */
const hold = { site: siteKey('9', '2'), reason: 'the CRM lists no live contact for this site', deletes: 1, managed: 1 };
const v3 = { mode: 'reconcile', recorded: true, ...v2, totals: { ...planTotals, held: 1, driftRepairs: 0 }, held: [hold] };
/** Shape 5 (today's writer; shape 4 lacked `sourceProblems`). */
const today: PlanSummary = {
  mode: 'changes',
  recorded: true,
  totals: { ...planTotals, held: 1, driftRepairs: 2 },
  rejectedSites: [],
  siteErrors: [{ site: siteKey('9', '3'), error: 'CHeKT GET contacts: server error, status 503' }],
  invalid,
  sourceProblems: [{ crmSiteId: 'S-9', externalContactId: '4', reason: 'two contact rows have this (site_id, id): neither is synced, and the contact is not deleted' }],
  warnings,
  unmanagedBySite: {},
  unmappedSites: [],
  held: [hold],
  unreachableSites: [{ site: '9/1', contacts: 2, smsCapable: 0, reason: '2 contacts: 1 landline, 1 without a phone' }],
  reachableAgainSites: [{ site: '9/4', smsCapable: 1 }],
  enqueue: null,
};

describe('readPlanSummary: every stored shape', () => {
  test("today's summary reads back exactly as written", () => {
    expect(readPlanSummary(today)).toEqual({ summary: today, problems: [] });
    // Through JSON, as PostgreSQL returns it.
    expect(readPlanSummary(JSON.parse(JSON.stringify(today)))).toEqual({ summary: today, problems: [] });
  });

  test('shape 1: absent lists read as empty, held as null (no holds then), the new counts stay absent', () => {
    const { summary, problems } = readPlanSummary(v1);
    expect(problems).toEqual([]);
    expect(summary).toEqual({
      totals: planTotals,
      rejectedSites: v1.rejectedSites,
      siteErrors: [],
      invalid,
      sourceProblems: [],
      warnings,
      unmanagedBySite: { '9/1': 2 },
      unmappedSites: [],
      held: null,
      unreachableSites: [],
      reachableAgainSites: [],
      enqueue: { added: 5, joined: 0, replaced: 0 },
    });
    expect(summary).not.toHaveProperty('mode');
    expect(summary).not.toHaveProperty('recorded');
    expect(summary?.totals).not.toHaveProperty('held');
    expect(summary?.totals).not.toHaveProperty('driftRepairs');
  });

  test('shape 2 keeps its unmapped sites; shape 3 its mode, holds and hold counts', () => {
    expect(readPlanSummary(v2).summary).toMatchObject({ unmappedSites: [{ site: '9/22', contacts: 4 }], held: null, unreachableSites: [] });
    const three = readPlanSummary(v3);
    expect(three.problems).toEqual([]);
    expect(three.summary).toMatchObject({ mode: 'reconcile', recorded: true, held: [hold], totals: { held: 1, driftRepairs: 0 }, unreachableSites: [], reachableAgainSites: [] });
  });

  test('an empty held list stays empty (not null): the run held nothing', () => {
    expect(readPlanSummary({ ...v3, held: [] }).summary?.held).toEqual([]);
  });

  test('nothing stored reads as no summary, without a problem', () => {
    expect(readPlanSummary(null)).toEqual({ summary: null, problems: [] });
    expect(readPlanSummary(undefined)).toEqual({ summary: null, problems: [] });
  });

  test('keys no version wrote are dropped', () => {
    expect(readPlanSummary({ ...today, somethingElse: 1, totals: { ...today.totals, bogus: 3 } }).summary).toEqual(today);
  });
});

describe('readPlanSummary: a corrupt summary is named, never thrown', () => {
  test('a value that is not an object gives no summary and one problem', () => {
    expect(readPlanSummary('garbage')).toEqual({ summary: null, problems: ['planned: expected a JSON object, received string'] });
    expect(readPlanSummary([today])).toEqual({ summary: null, problems: ['planned: expected a JSON object, received an array'] });
    expect(readPlanSummary(42).problems).toEqual(['planned: expected a JSON object, received number']);
  });

  test('an unreadable part reads as absent, is named with its path, and the rest reads as stored', () => {
    const { summary, problems } = readPlanSummary({ ...today, totals: { ...today.totals, creates: 'three' }, held: 'yes', invalid: [{ site: '9/1' }] });
    expect(problems).toEqual([
      'planned.totals.creates: Invalid input: expected number, received string',
      'planned.invalid.0.externalContactId: Invalid input: expected string, received undefined (and 1 more)',
      'planned.held: Invalid input: expected array, received string',
    ]);
    expect(summary).toEqual({ ...today, totals: null, invalid: [], held: null });
  });

  test('a summary without totals (or with empty totals) has null totals and says why', () => {
    const none = readPlanSummary({ held: [] });
    expect(none.summary).toMatchObject({ totals: null, held: [], invalid: [], rejectedSites: [] });
    expect(none.problems).toEqual(['planned.totals: Invalid input: expected object, received undefined']);
    const empty = readPlanSummary({ totals: {} });
    expect(empty.summary?.totals).toBeNull();
    expect(empty.problems).toEqual(['planned.totals.sites: Invalid input: expected number, received undefined (and 8 more)']);
  });

  test('a wrong mode is dropped, not guessed', () => {
    const r = readPlanSummary({ ...today, mode: 'sometimes' });
    expect(r.summary).not.toHaveProperty('mode');
    expect(r.problems).toEqual([expect.stringMatching(/^planned\.mode: /)]);
  });
});
