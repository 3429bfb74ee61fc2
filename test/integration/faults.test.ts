import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { dealerSites, numberedContacts } from './support/builders.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * Transient CHeKT failures are retried (p-retry inside an attempt, BullMQ attempts across) and a create whose
 * response was lost after CHeKT committed it is looked up before it is sent again, so the sync converges
 * with exactly one CHeKT contact per CRM contact.
 */

let h: Harness;
const N = 60;

beforeAll(async () => {
  h = await createHarness('faults', { sandbox: { seed: 7 } });
  await seedCrm(h, dealerSites('1', 2), numberedContacts(N, { idPrefix: 'f', siteIds: ['s2', 's1'], firstName: 'Fault', lastName: 'Tolerant', phones: true }));
}, 60_000);

afterAll(async () => {
  await h?.close();
});

test('with 20% 5xx and 10% of write responses dropped after commit, the sync converges with no duplicates', async () => {
  h.sandbox.setFaults({ errorRate: 0.2, dropAfterCommitRate: 0.1 });
  const report = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 60_000 });
  h.sandbox.setFaults({ errorRate: 0, dropAfterCommitRate: 0 });
  const stats = h.sandbox.stats();
  expect(stats.byStatus['503']).toBeGreaterThan(0);
  expect(stats.dropped).toBeGreaterThan(0);
  expect(report.failures).toEqual([]);
  expect(report.counts.create?.succeeded).toBe(N);
  const all = h.sandbox.allContacts();
  const exts = all.map((c) => c.external_contact_id);
  expect(exts).toHaveLength(N);
  expect(new Set(exts).size).toBe(N);
  // Every ledger row points at the one CHeKT copy.
  const ledger = await h.app.db.syncLedger.findMany();
  const byExt = new Map(all.map((c) => [c.external_contact_id, String(c.contact_id)]));
  expect(ledger).toHaveLength(N);
  for (const l of ledger) expect(l.chektContactId).toBe(byExt.get(l.externalContactId));

  h.sandbox.resetStats();
  const again = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 60_000 });
  expect(again.counts).toEqual({});
  expect(h.sandbox.stats().writes).toBe(0);
}, 90_000);
