import { formatReport, runSucceeded } from '../../src/cli/report.js';
import type { JsonRunReport } from '../../src/domain/runReport.js';
import { siteKey } from '../../src/domain/site.js';

const base: JsonRunReport = {
  runId: 'r1',
  status: 'completed_with_failures',
  dryRun: false,
  durationMs: 1234,
  sites: { planned: 2, rejected: [], errors: [] },
  planned: { sites: 2, creates: 2, updates: 1, deletes: 0, unchanged: 5, adopted: 0, invalid: 1, warnings: 1, unmanaged: 3, held: 0, driftRepairs: 0 },
  counts: { create: { succeeded: 1, failed: 1 }, update: { succeeded: 1 } },
  failures: [{ dealerId: 'd', siteId: 's', externalContactId: 'c9', kind: 'create', error: 'CHeKT POST contacts: bad request, status 400' }],
  plannedOperations: [],
  invalid: [{ site: 'd/s', externalContactId: 'c7', reason: 'first_name is empty' }],
  sourceProblems: [],
  warnings: [{ site: 'd/s', externalContactId: 'c8', reason: 'email is not a valid address; field not sent' }],
  unmanagedBySite: { 'd/s': 3 },
  unmappedSites: [{ site: 'd/22', contacts: 4 }],
  held: [],
  driftRepaired: 0,
  unreachableSites: [],
  reachableAgainSites: [],
  reachProblems: [],
  notes: [],
  error: null,
};

describe('formatReport', () => {
  test('names unreachable sites, sites reachable again, contacts CHeKT did not keep and notes', () => {
    const text = formatReport({
      ...base,
      unreachableSites: [{ site: 'd/s', contacts: 2, smsCapable: 0, reason: '2 contacts: 1 landline, 1 toll-free' }],
      reachableAgainSites: [{ site: 'd/t', smsCapable: 1 }],
      reachProblems: [{ site: 'd/t', externalContactId: 'c3', problem: 'CHeKT dropped the phone number it was sent' }],
      notes: [{ dealerId: 'd', siteId: 't', externalContactId: 'c4', kind: 'create', note: 'CHeKT refused email (status 400, code invalid_field); created without it' }],
    });
    expect(text).toContain("  UNREACHABLE sites (1): no contact can receive CHeKT's verification text (docs/REACHABILITY.md):\n    d/s: 2 contacts: 1 landline, 1 toll-free");
    expect(text).toContain('  site d/t reachable again: 1 SMS-capable contact(s)');
    expect(text).toContain('  contact d/t c3 not reachable by SMS: CHeKT dropped the phone number it was sent');
    expect(text).toContain('  note d/t c4 create: CHeKT refused email (status 400, code invalid_field); created without it');
  });

  test('lists the CRM rows the source checks left out, by CRM site and contact id', () => {
    const text = formatReport({
      ...base,
      sourceProblems: [
        { crmSiteId: 'CS-1', externalContactId: '7', reason: 'two contact rows have this (site_id, id): neither is synced, and the contact is not deleted' },
        { crmSiteId: 'CS-2', externalContactId: null, reason: 'the site has no chekt_site_id: it is not synced' },
      ],
    });
    expect(text).toContain(
      '  CRM rows left out by the source checks (2; docs/CRM.md#bad-rows):\n    site CS-1 contact 7: two contact rows have this (site_id, id): neither is synced, and the contact is not deleted\n    site CS-2: the site has no chekt_site_id: it is not synced',
    );
    expect(formatReport(base)).not.toContain('source checks');
  });

  test('says how many operations failed, with each failure, invalid contact and warning', () => {
    const text = formatReport(base);
    expect(text.split('\n')[0]).toBe('Run r1: completed_with_failures (1 failed operation) in 1.2 s');
    expect(text).toContain('  create              1          1          0          0');
    expect(text).toContain('    d/s c9 create: CHeKT POST contacts: bad request, status 400');
    expect(text).toContain('    d/s c7: first_name is empty');
    expect(text).toContain('    d/s c8: email is not a valid address; field not sent');
    expect(text).toContain('  CHeKT site d/22 holds 4 contact(s) this service created, but no CRM site maps to it any more; left as they are');
    expect(runSucceeded(base)).toBe(false);
  });

  test('a dry run lists what it would do', () => {
    const text = formatReport({
      ...base,
      dryRun: true,
      status: 'completed',
      counts: { delete: { planned: 1 } },
      failures: [],
      plannedOperations: [{ dealerId: 'd', siteId: 's', externalContactId: 'c1', kind: 'delete', reason: 'removed_from_crm' }],
    });
    expect(text.split('\n')[0]).toBe('Run r1 (dry run: nothing written): completed in 1.2 s');
    expect(text).toContain('    delete d/s c1 (removed from crm)');
  });

  test('a clean run succeeds', () => {
    expect(runSucceeded({ ...base, status: 'completed', failures: [], counts: { create: { succeeded: 2 } } })).toBe(true);
    expect(runSucceeded({ ...base, failures: [], counts: {}, sites: { planned: 1, rejected: [], errors: [{ site: siteKey('d', 's'), error: 'x' }] } })).toBe(false);
  });
});

describe('formatReport of a run whose stored summary is partly unreadable', () => {
  test('says which parts are shown as absent', () => {
    const text = formatReport({ ...base, planned: null, summaryProblems: ['planned.totals: Invalid input: expected object, received string'] });
    expect(text).toContain('  stored plan summary unreadable, shown as absent: planned.totals: Invalid input: expected object, received string');
    expect(text).not.toContain('sites planned:');
  });
});
