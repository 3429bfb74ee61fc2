import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { runSync } from '../../src/cli/runSync.js';
import { startRun } from '../../src/sync/startRun.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * A CRM read that fails or times out plans nothing; it never looks like "no contacts" (docs/SAFETY.md
 * guarantee 3a). Both a broken read (the table is gone) and a
 * read blocked past DB_STATEMENT_TIMEOUT_MS fail the run with the reason, and CHeKT keeps every contact.
 */

let h: Harness;
const ext = () =>
  h.sandbox
    .contacts('3', '30')
    .map((c) => c.external_contact_id)
    .sort();

beforeAll(async () => {
  h = await createHarness('crmfail', { env: { DB_STATEMENT_TIMEOUT_MS: '800' } });
  await seedCrm(
    h,
    [{ id: 's', dealerId: '3', siteId: '30' }],
    [
      { id: 'p1', siteId: 's', firstName: 'Ana', lastName: 'One' },
      { id: 'p2', siteId: 's', firstName: 'Ben', lastName: 'Two' },
    ],
  );
  await h.app.startWorkers();
  await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
  expect(ext()).toEqual(['p1', 'p2']);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

/** The newest run row. */
const lastRun = () => h.app.db.syncRun.findFirst({ orderBy: { startedAt: 'desc' } });

describe('a failed CRM read', () => {
  test('a read error (contacts table gone) fails the run; nothing is planned or deleted', async () => {
    await h.app.db.$executeRawUnsafe('ALTER TABLE contacts RENAME TO contacts_away');
    h.sandbox.resetStats();
    try {
      await expect(runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 })).rejects.toThrow();
      const run = await lastRun();
      expect(run).toMatchObject({ status: 'failed' });
      expect(run?.error).toMatch(/^CRM read failed; nothing planned: /);
      expect(await h.app.db.syncOperation.count({ where: { runId: run!.id } })).toBe(0);
      // The change tick fails the same way (its run row is never written).
      await expect(startRun(h.app.planDeps, { mode: 'changes', trigger: 'schedule', dryRun: false })).rejects.toThrow();
    } finally {
      await h.app.db.$executeRawUnsafe('ALTER TABLE contacts_away RENAME TO contacts');
    }
    expect(h.sandbox.stats().writes).toBe(0);
    expect(ext()).toEqual(['p1', 'p2']);
  });

  test('a read blocked past DB_STATEMENT_TIMEOUT_MS fails the run; nothing is planned or deleted', async () => {
    const locker = new pg.Client({ connectionString: h.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE');
    h.sandbox.resetStats();
    const started = Date.now();
    try {
      await expect(runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 })).rejects.toThrow(/statement timeout/);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    const run = await lastRun();
    expect(run).toMatchObject({ status: 'failed' });
    expect(run?.error).toMatch(/statement timeout/);
    expect(h.sandbox.stats().writes).toBe(0);
    expect(ext()).toEqual(['p1', 'p2']);
  });

  test('once the CRM reads again, the next sync changes nothing', async () => {
    h.sandbox.resetStats();
    const report = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
    expect(report.status).toBe('completed');
    expect(report.counts).toEqual({});
    expect(h.sandbox.stats().writes).toBe(0);
  });
});
