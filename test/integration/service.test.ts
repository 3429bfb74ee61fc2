import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sandbox } from '../../src/sandbox/server.js';
import type { PrismaClient } from '../../src/source/db.js';
import { createProcessFixture, deleteRedisPrefix, type ProcessFixture } from './support/harness.js';
import { run, start, waitExit } from './support/spawn.js';

/**
 * `npm start` as a process: refuses a bad config naming the variable; with a good one the job scheduler
 * syncs on its own tick; SIGTERM drains and exits 0 (docs/DEPLOYMENT.md#probes-signals-logs).
 */

let fx: ProcessFixture;
let sandbox: Sandbox;
let db: PrismaClient;
let env: Record<string, string>;
const port = 20_000 + Math.floor(Math.random() * 20_000);

beforeAll(async () => {
  fx = await createProcessFixture('svc', [{ dealerId: '9', siteId: '1' }], {
    LOG_LEVEL: 'info',
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    ADMIN_USER: 'ops',
    ADMIN_PASSWORD: 'a-long-admin-password',
    SYNC_INTERVAL_SECONDS: '5',
  });
  ({ sandbox, db, env } = fx);
  await db.site.create({ data: { id: 's', chektDealerId: '9', chektSiteId: '1', name: 'Plant' } });
  await db.contact.create({ data: { id: 'k1', siteId: 's', firstName: 'Kai', lastName: 'Berg' } });
}, 60_000);

afterAll(async () => {
  await fx?.close();
});

describe('npm start', () => {
  test('refuses to start without ADMIN_PASSWORD, naming it', async () => {
    const { ADMIN_PASSWORD: _, ...rest } = env;
    const r = await run('src/main.ts', [], rest);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ADMIN_PASSWORD/);
  }, 30_000);

  test('refuses to start on a database that does not exist (it is not created by the service)', async () => {
    const url = new URL(env.DATABASE_URL!);
    url.pathname = '/cks_no_such_database';
    const r = await run('src/main.ts', [], { ...env, DATABASE_URL: url.toString() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DATABASE_URL: cannot migrate .*cks_no_such_database.*does not exist.*npm run db:migrate/);
  }, 30_000);

  test('`npm start` syncs on the scheduler tick, serves /healthz, and SIGTERM to npm drains the service with exit 0', async () => {
    const child = start('start', [], env, { npm: true });
    try {
      let healthy = false;
      for (let i = 0; i < 150 && !healthy; i++) {
        await sleep(200);
        healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
      }
      expect(healthy).toBe(true);
      for (let i = 0; i < 100 && sandbox.contacts('9', '1').length === 0; i++) await sleep(200);
      expect(sandbox.contacts('9', '1').map((c) => c.external_contact_id)).toEqual(['k1']);
      const runs = await db.syncRun.findMany({ where: { trigger: 'schedule' } });
      expect(runs.length).toBeGreaterThanOrEqual(1);
    } finally {
      child.kill('SIGTERM');
    }
    const r = await waitExit(child, 30_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/"msg":"stopped"/);
    // Nothing is left serving: the signal reached the service itself, not only npm.
    expect(
      await fetch(`http://127.0.0.1:${port}/healthz`).then(
        () => 'up',
        () => 'down',
      ),
    ).toBe('down');
  }, 60_000);

  test('SIGTERM while a create is in flight: the job finishes, is recorded, and the process exits 0', async () => {
    await db.contact.create({ data: { id: 'k2', siteId: 's', firstName: 'Lea', lastName: 'Late' } });
    sandbox.resetStats();
    // The start-up change tick creates k2 (no list: the ledger knows k1); CHeKT holds each request for 1.5 s.
    sandbox.setFaults({ latencyMs: 1500 });
    // A queue prefix of its own: no tick left over from the previous test's job scheduler.
    const prefix = `${env.QUEUE_PREFIX}-drain`;
    const child = start('src/main.ts', [], { ...env, QUEUE_PREFIX: prefix, SYNC_INTERVAL_SECONDS: '3600', SHUTDOWN_TIMEOUT_MS: '20000' });
    try {
      const listed = () => sandbox.requests().some((r) => r.route.startsWith('GET /partner/'));
      const posted = () => sandbox.requests().some((r) => r.route.startsWith('POST /partner/'));
      // Wait until the token was issued and the create is held in CHeKT.
      for (let i = 0; i < 500 && !(sandbox.stats().tokens > 0 && sandbox.inFlight() > 0); i++) await sleep(20);
      expect(listed()).toBe(false);
      expect(sandbox.inFlight()).toBe(1);
      expect(posted()).toBe(false);
    } finally {
      child.kill('SIGTERM');
    }
    const r = await waitExit(child, 30_000);
    sandbox.setFaults({ latencyMs: 0 });
    expect(r.code).toBe(0);
    expect(
      sandbox
        .contacts('9', '1')
        .map((c) => c.external_contact_id)
        .sort(),
    ).toEqual(['k1', 'k2']);
    const ledger = await db.syncLedger.findUnique({
      where: { chektDealerId_chektSiteId_externalContactId: { chektDealerId: '9', chektSiteId: '1', externalContactId: 'k2' } },
    });
    expect(ledger).toMatchObject({ lastKind: 'create', lastOutcome: 'succeeded' });
    await deleteRedisPrefix(prefix);
  }, 60_000);
});
