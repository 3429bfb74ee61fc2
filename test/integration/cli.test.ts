import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Sandbox } from '../../src/sandbox/server.js';
import type { PrismaClient } from '../../src/source/db.js';
import { createProcessFixture, type ProcessFixture } from './support/harness.js';
import { run } from './support/spawn.js';

/**
 * `npm run sync` as a user runs it: a separate process, configured only by the environment, against a CRM
 * filled with plain SQL and the sandbox over HTTP. Exit codes 0 / 1 / 2 (docs/OPERATIONS.md#npm-run-sync).
 */

let fx: ProcessFixture;
let sandbox: Sandbox;
let db: PrismaClient;
let env: Record<string, string>;

beforeAll(async () => {
  fx = await createProcessFixture('cli', [{ dealerId: '55', siteId: '1' }], { LOG_LEVEL: 'warn' });
  ({ sandbox, db, env } = fx);
  await db.$executeRawUnsafe(`INSERT INTO sites (id, chekt_dealer_id, chekt_site_id, name) VALUES ('s', '55', '1', 'Depot')`);
  await db.$executeRawUnsafe(`INSERT INTO contacts (id, site_id, first_name, last_name, phone_number, email) VALUES
    ('x1', 's', 'Ana', 'Silva', '+55 11 91234-5678', 'ana@example.com'),
    ('x2', 's', 'Ben', 'Ong', NULL, NULL),
    ('x3', 's', 'Cat', 'Rej', NULL, NULL)`);
}, 60_000);

afterAll(async () => {
  await fx?.close();
});

describe('npm run sync', () => {
  test('bad usage exits 2 with the reason and the usage', async () => {
    const r = await run('src/cli/sync.ts', ['--site', 'no-slash'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid site "no-slash"/);
    expect(r.stderr).toMatch(/Usage: npm run sync/);
    const unknown = await run('src/cli/sync.ts', ['--frobnicate'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/frobnicate/);
  }, 30_000);

  test('a site missing from the CRM, or --approve-deletes without --site, exits 2 and records no run', async () => {
    const before = await db.syncRun.count();
    const r = await run('src/cli/sync.ts', ['--site', '404/404'], env, 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/site 404\/404 cannot be synced: no CRM site with this chekt_dealer_id\/chekt_site_id/);
    expect(r.stdout).toBe('');
    const approve = await run('src/cli/sync.ts', ['--approve-deletes'], env, 30_000);
    expect(approve.code).toBe(2);
    expect(approve.stderr).toMatch(/--approve-deletes needs --site/);
    expect(await db.syncRun.count()).toBe(before);
  }, 60_000);

  test('bad configuration exits 2 naming each variable', async () => {
    const { CHEKT_CLIENT_ID: _, ...rest } = env;
    const r = await run('src/cli/sync.ts', [], { ...rest, CHEKT_RATE_LIMIT_PER_MINUTE: 'fast' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/CHEKT_CLIENT_ID/);
    expect(r.stderr).toMatch(/CHEKT_RATE_LIMIT_PER_MINUTE/);
  }, 30_000);

  test('an unreachable Redis or an unmigrated database exits 2 naming the variable, without hanging', async () => {
    const redis = await run('src/cli/sync.ts', [], { ...env, REDIS_URL: 'redis://127.0.0.1:1' }, 30_000);
    expect(redis.code).toBe(2);
    expect(redis.stderr).toMatch(/sync failed: REDIS_URL: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    const url = new URL(env.DATABASE_URL!);
    url.pathname = '/postgres';
    const pg = await run('src/cli/sync.ts', [], { ...env, DATABASE_URL: url.toString() }, 30_000);
    expect(pg.code).toBe(2);
    expect(pg.stderr).toMatch(/DATABASE_URL: .* has no chekt-contact-sync tables; run `npm run db:migrate` first/);
  }, 60_000);

  test('credentials the token endpoint rejects exit 2 naming the variables', async () => {
    const r = await run('src/cli/sync.ts', ['--dry-run'], { ...env, CHEKT_CLIENT_SECRET: 'wrong-secret' }, 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/CHEKT_CLIENT_ID \/ CHEKT_CLIENT_SECRET: rejected by the token endpoint http:\/\/127\.0\.0\.1:\d+\/oauth\/token/);
    expect(r.stderr).not.toContain('wrong-secret');
  }, 30_000);

  test('--dry-run --json plans, writes nothing, exits 0', async () => {
    const r = await run('src/cli/sync.ts', ['--dry-run', '--json'], env);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ status: 'completed', dryRun: true, counts: { create: { planned: 3 } } });
    expect(sandbox.stats().writes).toBe(0);
  }, 30_000);

  test('--json with one contact rejected by CHeKT: exit 1, the failure and its reason in the JSON', async () => {
    sandbox.setFaults({ rejectExternalContactIds: ['x3'] });
    const r = await run('src/cli/sync.ts', ['--json', '--site', '55/1'], env);
    sandbox.setFaults({ rejectExternalContactIds: [] });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.counts).toEqual({ create: { succeeded: 2, failed: 1 } });
    expect(report.failures).toEqual([expect.objectContaining({ dealerId: '55', siteId: '1', externalContactId: 'x3', kind: 'create', error: expect.stringMatching(/status 400/) })]);
    expect(
      sandbox
        .contacts('55', '1')
        .map((c) => [c.external_contact_id, c.phone_number])
        .sort(),
    ).toEqual([
      ['x1', '+5511912345678'],
      ['x2', null],
    ]);
  }, 30_000);

  test('the readable summary, exit 0 once everything succeeds; a second run makes no write call', async () => {
    const r = await run('src/cli/sync.ts', [], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/completed in/);
    expect(r.stdout).toMatch(/create\s+1\s+0\s+0\s+0/);
    sandbox.resetStats();
    const again = await run('src/cli/sync.ts', ['--json'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).counts).toEqual({});
    expect(sandbox.stats().writes).toBe(0);
  }, 60_000);

  test('held deletes: the header says held; --approve-deletes is audited (OS user, role cli) before it runs', async () => {
    await db.contact.updateMany({ where: { id: { in: ['x2', 'x3'] } }, data: { deletedAt: new Date() } });
    const held = await run('src/cli/sync.ts', [], env, 60_000);
    expect(held.code).toBe(1);
    expect(held.stdout.split('\n')[0]).toMatch(/^Run [0-9a-f-]{36}: held in [0-9.]+ s$/);
    expect(held.stdout).toMatch(/site 55\/1 ON HOLD, 2 delete\(s\) not made/);
    const approved = await run('src/cli/sync.ts', ['--site', '55/1', '--approve-deletes', '--json'], env, 60_000);
    expect(approved.code).toBe(0);
    const report = JSON.parse(approved.stdout);
    expect(report).toMatchObject({ status: 'completed', counts: { delete: { succeeded: 2 } } });
    expect(sandbox.contacts('55', '1').map((c) => c.external_contact_id)).toEqual(['x1']);
    const audit = await db.syncAudit.findMany();
    expect(audit).toEqual([
      expect.objectContaining({
        role: 'cli',
        action: 'hold.approve',
        target: '55/1',
        outcome: 'succeeded',
        detail: `run ${report.runId}`,
        actor: expect.stringMatching(/^.+@.+$/),
        params: { holds: [{ site: '55/1', reason: expect.stringMatching(/2 of 3/), externalContactIds: ['x2', 'x3'] }], dryRun: false, via: 'cli' },
      }),
    ]);
  }, 120_000);
});
