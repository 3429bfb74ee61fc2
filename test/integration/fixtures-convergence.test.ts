import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { runSync } from '../../src/cli/runSync.js';
import { toJsonReport } from '../../src/domain/runReport.js';
import { startRun } from '../../src/sync/startRun.js';
import { waitForRun } from '../../src/sync/waitForRun.js';
import type { SandboxFaults } from '../../src/sandbox/server.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * Convergence without loops (docs/SAFETY.md guarantee 5):
 * the corpus of awkward inputs in test/fixtures (white space, NBSP, NFD, case, phone spellings, invalid and
 * over-long values, odd ids) syncs once; right after, a reconcile makes zero write calls and a change tick
 * makes zero calls at all. Also against a CHeKT that stores phones as bare digits.
 */

interface Fixture {
  siteKey: string;
  id: string;
  firstName: string;
  lastName: string;
  phoneNumber: string | null;
  email: string | null;
}
const corpus = JSON.parse(readFileSync(new URL('../fixtures/awkward-contacts.json', import.meta.url), 'utf8')) as Fixture[];

describe.each([
  ['stores values as sent', {}],
  ['stores phones as bare digits', { storePhoneDigitsOnly: true }],
] as Array<[string, Partial<SandboxFaults>]>)('the awkward corpus, against a CHeKT that %s', (_label, faults) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('corpus', { sandbox: { faults } });
    await seedCrm(
      h,
      [
        { id: 'A', dealerId: '8', siteId: '1' },
        { id: 'B', dealerId: '8', siteId: '2' },
      ],
      corpus.map((c) => ({ id: c.id, siteId: c.siteKey, firstName: c.firstName, lastName: c.lastName, phoneNumber: c.phoneNumber, email: c.email })),
    );
    await h.app.startWorkers();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  test('the first sync creates every valid contact and reports every invalid one', async () => {
    const report = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 60_000 });
    // `expect.valid` in the corpus also marks contacts that sync with a field dropped; the skipped ones are
    // those whose names are empty or broken (domain-fixtures.test.ts pins each case).
    const created = report.counts.create?.succeeded ?? 0;
    expect(report.status).toBe('completed');
    expect(report.counts).toEqual({ create: { succeeded: created } });
    expect(created).toBe(56);
    expect(report.planned?.invalid).toBe(corpus.length - 56);
    expect(report.invalid.every((n) => n.reason.length > 0)).toBe(true);
    expect(h.sandbox.allContacts()).toHaveLength(56);
  });

  test('a reconcile right after makes zero write calls', async () => {
    h.sandbox.resetStats();
    const report = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 60_000 });
    expect(report.counts).toEqual({});
    expect(h.sandbox.stats().writes).toBe(0);
  });

  test('a change tick right after makes zero calls', async () => {
    h.sandbox.resetStats();
    const { runId } = await startRun(h.app.planDeps, { mode: 'changes', trigger: 'schedule', dryRun: false });
    const report = toJsonReport(await waitForRun(h.app.db, h.app.operationsQueue, runId, { jobOptions: h.app.jobOptions }));
    expect(report.counts).toEqual({});
    expect(h.sandbox.stats().total).toBe(0);
  });
});
