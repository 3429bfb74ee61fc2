import { randomUUID } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { oldestPendingAgeSeconds } from '../../src/metrics.js';
import { STACK_TRACE_LIMIT } from '../../src/queue/backoff.js';
import { planRun } from '../../src/sync/planRun.js';
import { runSync } from '../../src/cli/runSync.js';
import { committedWrites, compareWithCrm, pollUntil } from './support/convergence.js';
import { dealerSites, numberedContacts } from './support/builders.js';
import { createHarness, PG_ADMIN_URL, seedCrm, type Harness } from './support/harness.js';
import { useCleanups } from './support/cleanups.js';

/**
 * docs/RETRIES.md#backoff: outages of CHeKT (every call and the token endpoint answering 503) and of PostgreSQL that
 * last longer than the old retry budget (5 attempts, spent in about 4 s with the harness's 50 ms base). Transient
 * failures must keep retrying with capped backoff (SYNC_BACKOFF_MAX_MS, 1 s here) for as long as the change is
 * pending: no operation is marked failed, and once the outage ends every pending change reaches CHeKT within
 * about one cap, once, with no manual step. Meanwhile the job count stays what was planned, each job keeps at most
 * STACK_TRACE_LIMIT stack traces (Redis stays bounded), and the freshness gauge shows the age.
 */

const CAP_MS = 1000;
const OUTAGE_MS = 8000;

const cleanups = useCleanups();

/** 2 sites, 12 contacts, synced once with no fault; workers started in this process. */
async function synced(label: string): Promise<Harness> {
  // The token provider backs off on its own (docs/CHEKT-AUTH-AND-IDS.md); its cap is set to the same 1 s.
  const env = { SYNC_BACKOFF_MAX_MS: String(CAP_MS), CHEKT_TOKEN_BACKOFF_MS: '100', CHEKT_TOKEN_BACKOFF_MAX_MS: String(CAP_MS), WORKER_CONCURRENCY: '4', LOG_LEVEL: 'warn' };
  const h = cleanups.track(await createHarness(label, { sandbox: { seed: 5 }, env }));
  await seedCrm(h, dealerSites('9', 2), numberedContacts(12, { idPrefix: 'o', siteIds: ['s2', 's1'], firstName: 'Out', lastName: 'Age', phones: true }));
  await h.app.startWorkers({ control: false });
  const first = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
  expect(first.counts).toEqual({ create: { succeeded: 12 } });
  return h;
}

/** Edits every other contact in the CRM and plans a change tick (no CHeKT call), as the job scheduler does. */
async function editAndTick(h: Harness): Promise<string> {
  await h.app.db.$executeRaw`UPDATE contacts SET last_name = last_name || ' (edited)', updated_at = now() WHERE substring(id from 2)::int % 2 = 0`;
  const runId = randomUUID();
  const summary = await planRun(h.app.planDeps, { kind: 'change_tick', runId });
  expect(summary.totals.updates).toBe(6);
  return runId;
}

const runStatus = async (h: Harness, runId: string) => (await h.app.db.syncRun.findUniqueOrThrow({ where: { id: runId } })).status;
const failedOps = (h: Harness) => h.app.db.syncOperation.count({ where: { outcome: 'failed' } });

/** No job failed, none was added, and no job's stack traces grow without bound. */
async function expectBoundedQueue(h: Harness, pending: number): Promise<void> {
  const counts = await h.app.operationsQueue.getJobCounts('waiting', 'active', 'delayed', 'failed');
  expect(counts.failed).toBe(0);
  expect(counts.waiting! + counts.active! + counts.delayed!).toBe(pending);
  for (const job of await h.app.operationsQueue.getJobs(['waiting', 'active', 'delayed'])) {
    expect((job.stacktrace ?? []).length).toBeLessThanOrEqual(STACK_TRACE_LIMIT);
  }
}

describe('transient failures keep retrying with capped backoff while the change is pending', () => {
  test('CHeKT and its token endpoint answer 503 for 8 s: nothing fails, and every edit reaches CHeKT within about one cap of recovery', async () => {
    const h = await synced('outchekt');
    h.sandbox.setFaults({ errorRate: 1, tokenErrorRate: 1 });
    h.sandbox.expireAllTokens();
    h.app.tokens.invalidate();
    h.sandbox.resetStats();
    const runId = await editAndTick(h);

    await sleep(OUTAGE_MS);
    const during = h.sandbox.stats();
    // The jobs did try, again and again (their token requests are throttled by the token provider's backoff).
    expect(during.byStatus['503']).toBeGreaterThan(0);
    expect(h.logs.filter((l) => l.msg === 'operation failed; will retry').length).toBeGreaterThan(6);
    // No hot loop: at most 3 tries per attempt (p-retry) and one attempt per backoff window and per in-attempt
    // wait (at least 250 + 500 ms), for 6 jobs over 8 s: far below 6 x 3 x (8 s / 0.75 s) = 192.
    expect(during.total).toBeLessThan(192);
    expect(await failedOps(h)).toBe(0);
    expect(await runStatus(h, runId)).toBe('running');
    await expectBoundedQueue(h, 6);
    // The freshness gauge shows the age of the oldest pending edit throughout.
    expect(await oldestPendingAgeSeconds(h.app.db)).toBeGreaterThanOrEqual(OUTAGE_MS / 1000 - 1);

    const recovered = Date.now();
    h.sandbox.setFaults({ errorRate: 0, tokenErrorRate: 0 });
    await pollUntil('the run to complete after recovery', async () => (await runStatus(h, runId)) === 'completed', { timeoutMs: 20_000, intervalMs: 50 });
    // One backoff window (1 s) plus an in-attempt wait and the calls themselves.
    expect(Date.now() - recovered).toBeLessThan(CAP_MS + 2500);
    expect(await failedOps(h)).toBe(0);
    expect(await h.app.db.syncOperation.count({ where: { runId, outcome: 'succeeded' } })).toBe(6);
    const cmp = await compareWithCrm(h.app.db, h.sandbox);
    expect(cmp.mismatches).toEqual([]);
    expect(cmp.duplicates).toEqual([]);
    expect(committedWrites(h.sandbox).PUT).toHaveLength(6);
    expect(await oldestPendingAgeSeconds(h.app.db)).toBe(0);
  }, 90_000);

  test('PostgreSQL refuses connections for 8 s: nothing fails, and every edit reaches CHeKT within about one cap of recovery', async () => {
    const h = await synced('outpg');
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    const dbName = new URL(h.databaseUrl).pathname.slice(1);
    const allow = (on: boolean) => admin.query(`ALTER DATABASE ${pg.escapeIdentifier(dbName)} ALLOW_CONNECTIONS ${on}`);
    cleanups.push(async () => {
      await allow(true);
      await admin.end();
    });
    h.sandbox.resetStats();
    // Planned while the workers are paused; then the database goes away (new connections refused, open ones
    // terminated) and the workers take the jobs.
    await Promise.all(h.app.workers.map((w) => w.pause(true)));
    const runId = await editAndTick(h);
    await allow(false);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
    for (const w of h.app.workers) await w.resume();

    await sleep(OUTAGE_MS);
    const counts = await h.app.operationsQueue.getJobCounts('failed', 'completed');
    expect(counts.failed).toBe(0);

    const recovered = Date.now();
    await allow(true);
    await pollUntil('the run to complete after recovery', async () => (await runStatus(h, runId).catch(() => 'unreachable')) === 'completed', { timeoutMs: 20_000, intervalMs: 50 });
    expect(Date.now() - recovered).toBeLessThan(CAP_MS + 2500);
    expect(await failedOps(h)).toBe(0);
    expect((await h.app.operationsQueue.getJobCounts('failed')).failed).toBe(0);
    const cmp = await compareWithCrm(h.app.db, h.sandbox);
    expect(cmp.mismatches).toEqual([]);
    expect(cmp.duplicates).toEqual([]);
    // No list call: a database outage costs no extra CHeKT reads, and each edit one PUT.
    expect(h.sandbox.stats().byRoute['GET /partner/v1/dealers/:dealerId/sites/:siteId/contacts'] ?? 0).toBe(0);
    expect(committedWrites(h.sandbox).PUT.length).toBeGreaterThanOrEqual(6);
  }, 90_000);
});
