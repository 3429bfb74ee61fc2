import { randomUUID } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { planRun } from '../../src/sync/planRun.js';
import { pollUntil } from './support/convergence.js';
import { dealerSites, markSiteSynced, numberedContacts } from './support/builders.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';
import { useCleanups } from './support/cleanups.js';

/**
 * docs/RETRIES.md#429: a 429 with a long `Retry-After`. Past `CHEKT_MAX_RETRY_AFTER_SECONDS` the wait is handed back
 * to BullMQ (the queue is rate limited, the job goes back to waiting), so no worker slot sleeps through it and
 * stopping is immediate. A wait within the cap is sat out in place, but a stop cuts it: no CHeKT request leaves
 * after stop() began.
 */

const cleanups = useCleanups();

/** 6 new contacts on a site the ledger has seen (a change tick plans 6 creates with no list call). */
async function backlog(label: string, env: Record<string, string>): Promise<{ h: Harness; runId: string }> {
  const h = cleanups.track(await createHarness(label, { env: { WORKER_CONCURRENCY: '4', LOG_LEVEL: 'warn', ...env } }));
  await seedCrm(h, dealerSites('7', 1), numberedContacts(6, { idPrefix: 'r', siteIds: ['s1'], firstName: 'Rate', lastName: 'Limited' }));
  // The ledger knows the site (as after a first sync), so the tick lists nothing.
  await markSiteSynced(h, '7', '1');
  const runId = randomUUID();
  const summary = await planRun(h.app.planDeps, { kind: 'change_tick', runId });
  expect(summary.totals.creates).toBe(6);
  return { h, runId };
}

const partnerRequests = (h: Harness) => h.sandbox.requests().filter((r) => r.path.startsWith('/partner')).length;

describe('429 handling', () => {
  test('Retry-After 300 s, past the 2 s cap: the jobs go back to waiting at once, no slot is held, stop is immediate and sends nothing', async () => {
    const { h, runId } = await backlog('ra-long', { CHEKT_MAX_RETRY_AFTER_SECONDS: '2' });
    h.sandbox.setFaults({ retryAfterSeconds: 300 });
    await h.app.startWorkers({ control: false });
    await pollUntil('a 429', () => h.sandbox.stats().rateLimited > 0, { timeoutMs: 10_000, intervalMs: 20 });
    // Within the cap's time, every job is back in `waiting` and the queue is rate limited for the Retry-After.
    await pollUntil('no active job', async () => (await h.app.operationsQueue.getJobCounts('active')).active === 0, { timeoutMs: 1500, intervalMs: 20 });
    await sleep(2500);
    const counts = await h.app.operationsQueue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    expect(counts).toEqual({ waiting: 6, active: 0, delayed: 0, failed: 0 });
    expect(await h.app.operationsQueue.getRateLimitTtl()).toBeGreaterThan(290_000);
    // Only the requests of the jobs that had started (at most the 4 slots) reached CHeKT; nothing was retried.
    const sent = partnerRequests(h);
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThanOrEqual(4);
    expect(h.sandbox.stats().rateLimited).toBe(sent);
    expect(await h.app.db.syncOperation.count({ where: { runId, outcome: 'queued' } })).toBe(6);

    const stopping = Date.now();
    await h.app.stop();
    expect(Date.now() - stopping).toBeLessThan(2000);
    expect(partnerRequests(h)).toBe(sent);
  }, 60_000);

  test('Retry-After 4 s, within the cap: stop() during the wait returns at once and no request leaves afterwards', async () => {
    const { h } = await backlog('ra-stop', { SHUTDOWN_TIMEOUT_MS: '10000' });
    h.sandbox.setFaults({ retryAfterSeconds: 4 });
    await h.app.startWorkers({ control: false });
    await pollUntil('the first 429s', () => h.sandbox.stats().rateLimited >= 1, { timeoutMs: 10_000, intervalMs: 20 });
    await sleep(500);
    const sent = partnerRequests(h);
    const stopping = Date.now();
    await h.app.stop();
    expect(Date.now() - stopping).toBeLessThan(2000);
    // The in-place waits (4 s) would have ended by now and sent again.
    await sleep(5000);
    expect(partnerRequests(h)).toBe(sent);
  }, 60_000);
});
