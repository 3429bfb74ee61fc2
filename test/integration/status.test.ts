import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { createProcessFixture, type ProcessFixture } from './support/harness.js';
import { run, start, waitExit } from './support/spawn.js';

/**
 * `npm run status` as an operator runs it: a separate process reading PostgreSQL with nothing but
 * `DATABASE_URL` (no Redis, no CHeKT credentials), after a real `npm run sync` (docs/OPERATIONS.md#npm-run-status).
 */

let fx: ProcessFixture;
let db: PrismaClient;
let syncRunId: string;
const PERSONAL = ['Amara', 'Okonkwo', '9123-4567', 'amara@example.com', 'Bruno', 'Lindqvist', 'Cleo'];
/** `npm run status -- <args>` with only DATABASE_URL (plus PATH and HOME) in its environment. */
const status = (args: string[], env: Record<string, string> = { DATABASE_URL: fx.env.DATABASE_URL! }) => waitExit(start('status', args, env, { npm: true }), 60_000);

beforeAll(async () => {
  fx = await createProcessFixture('status', [{ dealerId: '55', siteId: '1' }], { LOG_LEVEL: 'warn' });
  db = fx.db;
  await db.$executeRawUnsafe(`INSERT INTO sites (id, chekt_dealer_id, chekt_site_id, name) VALUES ('s', '55', '1', 'Depot')`);
  await db.$executeRawUnsafe(`INSERT INTO contacts (id, site_id, first_name, last_name, phone_number, email) VALUES
    ('x1', 's', 'Amara', 'Okonkwo', '+55 11 9123-4567', 'amara@example.com'),
    ('x2', 's', 'Bruno', 'Lindqvist', NULL, NULL),
    ('x3', 's', ' ', 'Cleo', NULL, NULL)`);
  fx.sandbox.setFaults({ rejectExternalContactIds: ['x2'] });
  const sync = await run('src/cli/sync.ts', ['--json'], fx.env, 60_000);
  expect(sync.code).toBe(1);
  syncRunId = (JSON.parse(sync.stdout) as { runId: string }).runId;
  await db.syncHold.create({ data: { chektDealerId: '55', chektSiteId: '1', reason: 'the CRM lists no live contact for this site', deletes: 2, managed: 2, runId: syncRunId } });
  await db.$executeRaw`INSERT INTO sync_ledger (chekt_dealer_id, chekt_site_id, external_contact_id, pending_since)
    VALUES ('55', '9', 'late-1', clock_timestamp() - interval '1 hour')`;
}, 90_000);

afterAll(async () => {
  await fx?.close();
});

describe('npm run status', () => {
  test('--json prints holds, failures, the oldest unsynced change and the last runs', async () => {
    const r = await status(['--json']);
    expect(r.code).toBe(1);
    for (const p of PERSONAL) expect(r.stdout).not.toContain(p);
    const o = JSON.parse(r.stdout);
    expect(o.holds).toEqual([{ site: '55/1', reason: 'the CRM lists no live contact for this site', deletes: 2, managed: 2, heldAt: expect.any(String), runId: syncRunId }]);
    expect(o.failures.total).toBe(1);
    expect(o.failures.items).toEqual([{ site: '55/1', externalContactId: 'x2', kind: 'create', reason: expect.stringMatching(/400/), at: expect.any(String) }]);
    expect(o.oldestUnsyncedChange).toMatchObject({ site: '55/9', externalContactId: 'late-1' });
    expect(o.oldestUnsyncedChange.ageSeconds).toBeGreaterThanOrEqual(3600);
    expect(o.oldestUnsyncedChange.ageSeconds).toBeLessThan(3700);
    expect(o.runs).toHaveLength(1);
    expect(o.runs[0]).toMatchObject({ id: syncRunId, trigger: 'cli', mode: 'reconcile', status: 'completed_with_failures', failures: 1, counts: { create: { succeeded: 1, failed: 1 } } });
    expect(o.runs[0].totals).toMatchObject({ sites: 1, creates: 2, invalid: 1 });
  }, 60_000);

  test('prints the same as tables, without personal data', async () => {
    const r = await status([]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('Health: NEEDS AN OPERATOR (exit 1)');
    for (const p of PERSONAL) expect(r.stdout).not.toContain(p);
    expect(r.stdout).toMatch(/Sites on hold \(1\)/);
    expect(r.stdout).toMatch(/│ 55\/1 +│ the CRM lists no live contact for this site +│ 2\/2/);
    expect(r.stdout).toMatch(/Failed contacts \(1\):/);
    expect(r.stdout).toMatch(/│ 55\/1 +│ x2 +│ create +│/);
    expect(r.stdout).toMatch(/│ 55\/9 +│ late-1 +│ 1 h 0 min +│/);
    expect(r.stdout).toContain(syncRunId);
    expect(r.stdout).not.toMatch(/\u001b\[/);
  }, 60_000);

  test('--site shows one site like the API', async () => {
    const r = await status(['--site', '55/1', '--json']);
    expect(r.code).toBe(1);
    for (const p of PERSONAL) expect(r.stdout).not.toContain(p);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ dealerId: '55', siteId: '1', name: 'Depot', syncEnabled: true, hold: { deletes: 2, managed: 2 } });
    const states = Object.fromEntries(s.contacts.map((c: { externalContactId: string; state: string }) => [c.externalContactId, c.state]));
    expect(states).toEqual({ x1: 'synced', x2: 'failed', x3: 'invalid' });
    expect(s.health).toMatchObject({ healthy: false, problems: [expect.stringMatching(/on hold: 55\/1/), '1 contact(s) failed for good'] });
    const table = await status(['--site', '55/1']);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/│ x2 +│ live +│ failed +│/);
  }, 60_000);

  test('exits 2 naming DATABASE_URL when it is invalid, unreachable or not migrated; 2 for an unknown site or bad usage', async () => {
    const invalid = await status([], { DATABASE_URL: 'mysql://x' });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/DATABASE_URL: must be a postgresql:\/\/ URL/);
    const unreachable = await status([], { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nope' });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(/DATABASE_URL: cannot reach PostgreSQL at postgresql:\/\/postgres@127\.0\.0\.1:1\/nope/);
    const url = new URL(fx.env.DATABASE_URL!);
    url.pathname = '/postgres';
    const unmigrated = await status([], { DATABASE_URL: url.toString() });
    expect(unmigrated.code).toBe(2);
    expect(unmigrated.stderr).toMatch(/DATABASE_URL: .* has no chekt-contact-sync tables; run `npm run db:migrate` first/);
    const unknown = await status(['--site', '55/404']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/site 55\/404: no CRM site/);
    const usage = await status(['--frobnicate']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Usage: npm run status/);
  }, 90_000);

  // Last: it clears the hold and the failure the tests above read.
  test('exit 1 on a hold, a contact failed for good, or a change older than ALERT_BEHIND_SECONDS; 0 when none', async () => {
    const env = (behind: string) => ({ DATABASE_URL: fx.env.DATABASE_URL!, ALERT_BEHIND_SECONDS: behind });
    const all = await status(['--json'], env('7200'));
    expect(all.code).toBe(1);
    expect(JSON.parse(all.stdout).health).toEqual({
      healthy: false,
      behindSeconds: 7200,
      problems: ['1 site(s) on hold: 55/1', '1 contact(s) failed for good'],
    });
    await db.syncHold.deleteMany({});
    expect((await status([], env('7200'))).code).toBe(1); // the failure remains
    await db.syncLedger.updateMany({ where: { lastOutcome: 'failed' }, data: { lastOutcome: 'succeeded' } });
    const healthy = await status([], env('7200'));
    expect(healthy.code).toBe(0);
    expect(healthy.stdout.split('\n')[0]).toBe('Health: OK');
    // late-1 has waited an hour: over the default 900 s.
    const behind = await status(['--json'], { DATABASE_URL: fx.env.DATABASE_URL! });
    expect(behind.code).toBe(1);
    expect(JSON.parse(behind.stdout).health.problems).toEqual([expect.stringMatching(/^the oldest unsynced change \(55\/9 late-1\) is 36\d\d s old, over ALERT_BEHIND_SECONDS=900$/)]);
    const bad = await status([], env('soon'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ALERT_BEHIND_SECONDS: must be a whole number/);
  }, 90_000);
});
