import { afterAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { migrate, MigrationError } from '../../src/db/migrate.js';
import { createPrisma } from '../../src/source/db.js';
import { databaseUrl } from './support/database.js';
import { databaseName } from './support/names.js';
import { dropTestDatabase } from './support/harness.js';

/**
 * Migrations without the Prisma engine: idempotent, safe with two starters at once, recorded in Prisma's own
 * `_prisma_migrations` table with Prisma's checksum; and the SQL matches prisma/schema.prisma (every model and
 * field written and read back through the generated client).
 */

const created: string[] = [];
const ALL = readdirSync('prisma/migrations', { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();
/** A database that does not exist yet (migrate creates it): the template is of no use here. */
const freshUrl = () => {
  const url = databaseUrl(databaseName('fresh'));
  created.push(url);
  return url;
};

afterAll(async () => {
  for (const u of created) await dropTestDatabase(u);
});

describe('migrate', () => {
  test('two processes starting at once apply each migration exactly once; a rerun applies nothing', async () => {
    const url = freshUrl();
    const [a, b] = await Promise.all([migrate({ databaseUrl: url }), migrate({ databaseUrl: url })]);
    expect(ALL.length).toBeGreaterThanOrEqual(2);
    expect([...a.applied, ...b.applied]).toEqual(ALL);
    expect([...a.alreadyApplied, ...b.alreadyApplied]).toEqual(ALL);
    const again = await migrate({ databaseUrl: url });
    expect(again).toEqual({ applied: [], alreadyApplied: ALL, createdDatabase: false });
    expect([a.createdDatabase, b.createdDatabase].filter(Boolean)).toHaveLength(1);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM _prisma_migrations ORDER BY migration_name');
    await client.end();
    expect(rows.map((r) => r.migration_name)).toEqual(ALL);
    for (const [i, name] of ALL.entries()) {
      const sql = readFileSync(`prisma/migrations/${name}/migration.sql`);
      expect(rows[i]).toMatchObject({ checksum: createHash('sha256').update(sql).digest('hex'), applied_steps_count: 1, rolled_back_at: null });
      expect(rows[i].finished_at).toBeInstanceOf(Date);
    }
  }, 30_000);

  test('a migration edited after it was applied is refused', async () => {
    const url = freshUrl();
    await migrate({ databaseUrl: url });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("UPDATE _prisma_migrations SET checksum = 'x'");
    await client.end();
    await expect(migrate({ databaseUrl: url })).rejects.toThrow(MigrationError);
    await expect(migrate({ databaseUrl: url })).rejects.toThrow(/modified after it was applied/);
  });

  test('the SQL matches the Prisma schema: every model and field round-trips through the generated client', async () => {
    const url = freshUrl();
    await migrate({ databaseUrl: url });
    const db = createPrisma({ databaseUrl: url });
    try {
      const t = new Date('2026-01-02T03:04:05.678Z');
      const site = await db.site.create({ data: { id: 's', chektDealerId: 'd', chektSiteId: '1', name: 'N', syncEnabled: false, updatedAt: t } });
      expect(site).toEqual({ id: 's', chektDealerId: 'd', chektSiteId: '1', name: 'N', syncEnabled: false, updatedAt: t });
      const defaults = await db.site.create({ data: { id: 's2', chektDealerId: 'd', chektSiteId: '2', name: 'M' } });
      expect(defaults.syncEnabled).toBe(true);
      await expect(db.site.create({ data: { id: 's3', chektDealerId: 'd', chektSiteId: '2', name: 'dup' } })).rejects.toThrow();
      const contact = { id: 'c', siteId: 's', firstName: 'F', lastName: 'L', phoneNumber: '+1', email: 'e@x.y', deletedAt: t, updatedAt: t };
      expect(await db.contact.create({ data: contact })).toEqual(contact);
      await expect(db.contact.create({ data: { ...contact, id: 'c2', siteId: 'missing' } })).rejects.toThrow();
      const ledger = {
        chektDealerId: 'd',
        chektSiteId: '1',
        externalContactId: 'c',
        chektContactId: '42',
        lastSent: { first_name: 'F' },
        lastSentHash: 'h',
        lastEchoHash: 'e',
        reachProblem: 'CHeKT dropped the phone number it was sent',
        lastKind: 'create',
        lastOutcome: 'succeeded',
        lastError: 'e',
        lastRunId: '00000000-0000-4000-8000-000000000001',
        syncedAt: t,
        updatedAt: t,
        crmHash: 'f',
        failedHash: 'g',
        failedAt: t,
        pendingSince: t,
      };
      expect(await db.syncLedger.create({ data: ledger })).toEqual(ledger);
      const run = {
        id: '00000000-0000-4000-8000-000000000001',
        trigger: 'cli',
        dryRun: true,
        sites: ['d/1'],
        status: 'completed',
        planned: { totals: {} },
        error: 'x',
        startedAt: t,
        crmReadAt: t,
        plannedAt: t,
        finishedAt: t,
        mode: 'changes',
        approveDeletes: true,
      };
      expect(await db.syncRun.create({ data: run })).toEqual(run);
      const op = {
        runId: run.id,
        opKey: 'op/d/1/c',
        chektDealerId: 'd',
        chektSiteId: '1',
        externalContactId: 'c',
        crmSiteId: 's',
        reason: 'missing_in_chekt',
        chektContactId: '42',
        kind: 'create',
        appliedKind: 'adopt',
        outcome: 'succeeded',
        error: null,
        attempts: 2,
        createdAt: t,
        finishedAt: t,
      };
      expect(await db.syncOperation.create({ data: op })).toEqual(op);
      const hold = { chektDealerId: 'd', chektSiteId: '1', reason: 'r', deletes: 2, managed: 3, runId: run.id, heldAt: t };
      expect(await db.syncHold.create({ data: hold })).toEqual(hold);
      await db.syncRun.delete({ where: { id: run.id } });
      expect(await db.syncOperation.count()).toBe(0); // cascade
      const audit = {
        id: '00000000-0000-4000-8000-000000000002',
        at: t,
        actor: 'ops',
        role: 'operator',
        action: 'hold.approve',
        target: 'd/1',
        params: { deletes: ['c'] },
        outcome: 'succeeded',
        detail: 'run x',
        finishedAt: t,
      };
      expect(await db.syncAudit.create({ data: audit })).toEqual(audit);
      const auditDefaults = await db.syncAudit.create({ data: { id: '00000000-0000-4000-8000-000000000003', actor: 'a', role: 'viewer', action: 'x', target: 'y', outcome: 'started' } });
      expect(auditDefaults).toMatchObject({ params: {}, detail: null, finishedAt: null });
      expect(auditDefaults.at).toBeInstanceOf(Date);
      const state = { key: 'hold:d/1', since: t, data: { deletes: 2 } };
      expect(await db.syncAlertState.create({ data: state })).toEqual(state);
      const alert = {
        id: '00000000-0000-4000-8000-000000000004',
        event: 'hold.created',
        body: { site: 'd/1' },
        createdAt: t,
        attempts: 3,
        nextAttemptAt: t,
        claimedUntil: t,
        deliveredAt: t,
        deadAt: t,
        lastError: 'HTTP 500',
      };
      expect(await db.syncAlert.create({ data: alert })).toEqual(alert);
      const alertDefaults = await db.syncAlert.create({ data: { id: '00000000-0000-4000-8000-000000000005', event: 'e', body: {} } });
      expect(alertDefaults).toMatchObject({ attempts: 0, claimedUntil: null, deliveredAt: null, deadAt: null, lastError: null });
    } finally {
      await db.$disconnect();
    }
  });
});
