import { describe, expect, test } from '@jest/globals';
import { assessHealth, siteHealthFacts } from '../../src/domain/health.js';
import { toJsonReport, toRunDetailJson, type RunOperationsPage, type RunView } from '../../src/domain/runReport.js';
import { countOutcome, runStatusOf } from '../../src/domain/runStatus.js';
import { readPlanSummary, type PlanSummary } from '../../src/domain/runSummary.js';
import { siteKey } from '../../src/domain/site.js';

const hold = { site: siteKey('9', '2'), reason: 'the CRM lists no live contact for this site', deletes: 1, managed: 1 };
const written: PlanSummary = {
  mode: 'reconcile',
  recorded: true,
  totals: { sites: 2, creates: 3, updates: 0, deletes: 1, unchanged: 0, adopted: 0, invalid: 1, warnings: 0, unmanaged: 1, held: 1, driftRepairs: 0 },
  rejectedSites: [{ ref: '9/404', reason: 'no CRM site with this chekt_dealer_id/chekt_site_id' }],
  siteErrors: [],
  invalid: [{ site: '9/1', externalContactId: 'inv-1', reason: 'first_name is empty' }],
  sourceProblems: [],
  warnings: [],
  unmanagedBySite: { '9/1': 1 },
  unmappedSites: [],
  held: [hold],
  unreachableSites: [],
  reachableAgainSites: [],
  enqueue: { added: 3, joined: 0, replaced: 0 },
};

const run = (over: Partial<RunView> = {}): RunView => ({
  id: 'r1',
  trigger: 'cli',
  mode: 'reconcile',
  dryRun: false,
  approveDeletes: false,
  status: 'completed',
  startedAt: '2026-12-01T10:00:00.000Z',
  plannedAt: '2026-12-01T10:00:00.500Z',
  finishedAt: '2026-12-01T10:00:02.250Z',
  error: null,
  summary: readPlanSummary(written).summary,
  summaryProblems: [],
  counts: { create: { succeeded: 2, failed: 1 }, delete: { held: 1 } },
  driftRepaired: 0,
  failures: [{ dealerId: '9', siteId: '1', externalContactId: 'bad-1', kind: 'create', error: 'CHeKT POST contacts: bad request, status 400' }],
  reachProblems: [],
  notes: [],
  plannedOperations: [],
  ...over,
});

describe('toJsonReport', () => {
  test('takes the lists from the summary, the counts and failures from the operations', () => {
    const r = toJsonReport(run());
    expect(r).toEqual({
      runId: 'r1',
      status: 'held',
      dryRun: false,
      durationMs: 2250,
      // From the stored summary:
      sites: { planned: 2, rejected: written.rejectedSites, errors: [] },
      planned: written.totals,
      invalid: written.invalid,
      sourceProblems: written.sourceProblems,
      warnings: written.warnings,
      unmanagedBySite: written.unmanagedBySite,
      unmappedSites: written.unmappedSites,
      held: written.held,
      unreachableSites: written.unreachableSites,
      reachableAgainSites: written.reachableAgainSites,
      // From the operations and the ledger:
      counts: { create: { succeeded: 2, failed: 1 }, delete: { held: 1 } },
      failures: run().failures,
      plannedOperations: [],
      driftRepaired: 0,
      reachProblems: [],
      notes: [],
      error: null,
    });
  });

  test('a run without a summary (planning, or planning failed) reports empty lists and no totals', () => {
    const r = toJsonReport(run({ status: 'failed', summary: null, counts: {}, failures: [], finishedAt: null, error: 'CRM read failed; nothing planned: timeout' }));
    expect(r).toMatchObject({ status: 'failed', durationMs: null, planned: null, sites: { planned: 0, rejected: [], errors: [] }, invalid: [], held: [], unmanagedBySite: {} });
    expect(r).not.toHaveProperty('summaryProblems');
  });

  test('names the unreadable parts of a stored summary, and only then', () => {
    const { summary, problems } = readPlanSummary({ ...written, totals: 'lost' });
    const r = toJsonReport(run({ summary, summaryProblems: problems }));
    expect(r.planned).toBeNull();
    expect(r.sites.planned).toBe(0);
    expect(r.invalid).toEqual(written.invalid);
    expect(r.summaryProblems).toEqual(['planned.totals: Invalid input: expected object, received string']);
  });
});

describe('toRunDetailJson', () => {
  const page: RunOperationsPage = {
    operations: {
      total: 1,
      limit: 100,
      offset: 0,
      items: [{ dealerId: '9', siteId: '1', externalContactId: 'bad-1', kind: 'create', appliedKind: 'create', reason: 'missing_in_chekt', outcome: 'failed', error: 'x', attempts: 1 }],
    },
    held: [{ ...hold, site: siteKey('9', '3') }],
  };

  test("is the report plus identity, times, mode and the page, in the API's key order; held comes from the page", () => {
    const d = toRunDetailJson(run(), page);
    expect(Object.keys(d)).toEqual([
      'runId',
      'status',
      'dryRun',
      'durationMs',
      'sites',
      'planned',
      'counts',
      'failures',
      'plannedOperations',
      'invalid',
      'sourceProblems',
      'warnings',
      'unmanagedBySite',
      'unmappedSites',
      'held',
      'driftRepaired',
      'unreachableSites',
      'reachableAgainSites',
      'reachProblems',
      'notes',
      'error',
      'trigger',
      'startedAt',
      'plannedAt',
      'finishedAt',
      'mode',
      'approveDeletes',
      'operations',
    ]);
    expect(d).toMatchObject({ trigger: 'cli', startedAt: run().startedAt, plannedAt: run().plannedAt, finishedAt: run().finishedAt, mode: 'reconcile', approveDeletes: false });
    expect(d.operations).toBe(page.operations);
    expect(d.held).toEqual(page.held);
  });
});

describe('runStatusOf and countOutcome', () => {
  test('count an outcome over every kind', () => {
    expect(countOutcome({ create: { failed: 2, succeeded: 1 }, delete: { failed: 1 } }, 'failed')).toBe(3);
    expect(countOutcome({}, 'failed')).toBe(0);
  });

  test('held sites, or held delete operations without a held site, make a completed run held', () => {
    expect(runStatusOf('completed', { create: { succeeded: 1 } }, 0)).toBe('completed');
    expect(runStatusOf('completed', { create: { failed: 1 } }, 0)).toBe('completed_with_failures');
    expect(runStatusOf('completed', { create: { failed: 1 } }, 1)).toBe('held');
    expect(runStatusOf('completed', { delete: { held: 2 } }, 0)).toBe('held');
    expect(runStatusOf('running', { create: { failed: 1 } }, 1)).toBe('running');
  });
});

describe('siteHealthFacts', () => {
  const site = {
    dealerId: '9',
    siteId: '1',
    hold: null,
    contacts: [
      { externalContactId: 'a', state: 'failed', pendingSince: '2026-12-01T10:05:00.000Z' },
      { externalContactId: 'b', state: 'pending', pendingSince: '2026-12-01T10:01:00.000Z' },
      { externalContactId: 'c', state: 'synced', pendingSince: null },
    ],
    oldestUnsyncedChangeAgeSeconds: 1200,
  };

  test('counts failed contacts and names the contact pending longest with the site age', () => {
    expect(siteHealthFacts(site)).toEqual({ holds: [], failures: { total: 1 }, oldestUnsyncedChange: { site: '9/1', externalContactId: 'b', ageSeconds: 1200 } });
    expect(assessHealth(siteHealthFacts(site), 900).problems).toEqual(['1 contact(s) failed for good', 'the oldest unsynced change (9/1 b) is 1200 s old, over ALERT_BEHIND_SECONDS=900']);
  });

  test('a held site with nothing pending: the hold is the only problem', () => {
    const held = { ...site, hold: { site: '9/1' }, contacts: [site.contacts[2]!], oldestUnsyncedChangeAgeSeconds: null };
    expect(siteHealthFacts(held)).toEqual({ holds: [{ site: '9/1' }], failures: { total: 0 }, oldestUnsyncedChange: null });
    expect(assessHealth(siteHealthFacts(held), 900)).toEqual({ healthy: false, behindSeconds: 900, problems: ['1 site(s) on hold: 9/1'] });
    expect(assessHealth(siteHealthFacts({ ...held, hold: null }), 900)).toEqual({ healthy: true, behindSeconds: 900, problems: [] });
  });
});
