import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { runSync } from '../../src/cli/runSync.js';
import type { JsonRunReport } from '../../src/domain/runReport.js';
import type { App } from '../../src/app.js';
import { CONTROL_QUEUE } from '../../src/queue/jobs.js';
import { committedWrites, compareWithCrm, editSample, generateCrm, pollUntil } from './support/convergence.js';
import { createHarness, createProcessFixture, PG_ADMIN_URL, REDIS_URL, seedCrm, type Harness, type ProcessFixture } from './support/harness.js';
import { freePort, startNode } from './support/processes.js';
import { waitExit } from './support/spawn.js';

/**
 * docs/SAFETY.md guarantee 10: at scale, with every fault at once, the sync still converges. The sandbox answers 20 % of
 * requests 503, drops the answer of 10 % of committed writes, and limits the client to 1,200 requests a minute
 * while the service is configured for 6,000 (so CHeKT answers 429 and the service must back off). 520 CRM
 * contacts on 120 sites, with awkward values (support/convergence.ts), must end in CHeKT exactly as in the CRM
 * (515: five have a blank first name and are skipped), with no duplicate, and then again after 5 % are edited
 * and 1 % soft-deleted. The first sync makes about 1,000 CHeKT calls (lists, creates, 503s, and the look-up
 * before each retried create), so at CHeKT's 1,200/min it alone takes 50 s or more.
 *
 * Also: the CRM's PostgreSQL sessions default to a non-UTC time zone and the service runs with a non-UTC TZ;
 * run timestamps and a failed contact's cool-down must not move by hours.
 */

const SITES = 120;
const CONTACTS = 520;
const VALID = 515;
const data = generateCrm({ sites: SITES, contacts: CONTACTS });

let h: Harness;

beforeAll(async () => {
  h = await createHarness('fscale', {
    // 1,200/min (20 a second) is below what the service sustains even on a busy 2-core machine (about 28 requests
    // a second measured here). Without X-RateLimit-* headers (a CHeKT that sends only Retry-After) the service
    // cannot adopt CHeKT's limit from the first answer; it lowers its rate by 20 % per 429 instead, so 429s are
    // certain. (With the headers it adopts 1,200/min at once and no 429 happens.)
    sandbox: { seed: 3, rateLimitPerMinute: 1200, rateLimitHeaders: false },
    env: {
      CHEKT_RATE_LIMIT_PER_MINUTE: '6000',
      WORKER_CONCURRENCY: '16',
      // The 1 % soft-delete is on purpose: one delete of a site's 4 or 5 contacts is above the default 10 % hold.
      DELETE_HOLD_SHARE_PERCENT: '100',
      LOG_LEVEL: 'info',
    },
  });
  await seedCrm(h, data.sites, data.contacts);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

/**
 * Runs a sync; when the first run reports failed operations or sites, runs exactly one more. At 20 % 503s a
 * site's list fails three tries in a row (0.8 %: over 120 lists, more likely than not once per run); the site is
 * then reported and left out of the run, as documented, and left to the next run by design, so one more run is
 * allowed, never more. (An operation no longer gives up under 503s and 429s: it retries until it succeeds,
 * docs/RETRIES.md.)
 */
async function syncAtMostTwice(app: App): Promise<{ report: JsonRunReport; runs: number }> {
  const first = await runSync(app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 120_000 });
  if (first.status === 'completed' && first.failures.length === 0 && first.sites.errors.length === 0) return { report: first, runs: 1 };
  const second = await runSync(app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 120_000 });
  return { report: second, runs: 2 };
}

/** Redis key of the service's shared CHeKT rate limit (app.ts `rateLimitKey`: per API URL and client id). */
function rateKey(x: Harness): string {
  const id = createHash('sha256').update(`${x.config.chekt.apiUrl}\n${x.config.chekt.auth.clientId}`).digest('hex').slice(0, 16);
  return `chekt-contact-sync:rate:${id}`;
}

describe('at scale under 5xx, dropped answers and 429s', () => {
  test('520 contacts on 120 sites converge, then 5 % edits and 1 % soft deletes converge, with no duplicate', async () => {
    expect(data.contacts).toHaveLength(CONTACTS);
    h.sandbox.setFaults({ errorRate: 0.2, dropAfterCommitRate: 0.1, latencyMs: 2 });

    // First sync: every valid contact created once.
    const first = await syncAtMostTwice(h.app);
    const stats1 = h.sandbox.stats();
    expect(stats1.byStatus['503'] ?? 0).toBeGreaterThan(0);
    expect(stats1.dropped).toBeGreaterThan(0);
    expect(stats1.rateLimited).toBeGreaterThan(0);
    expect(first.report.status).toBe('completed');
    expect(first.report.failures).toEqual([]);
    expect(first.report.sites.errors).toEqual([]);
    if (first.runs === 1) {
      expect(first.report.counts).toEqual({ create: { succeeded: VALID } });
      expect(first.report.invalid).toHaveLength(CONTACTS - VALID);
    }
    const cmp1 = await compareWithCrm(h.app.db, h.sandbox);
    expect(cmp1.duplicates).toEqual([]);
    expect(cmp1.mismatches).toEqual([]);
    expect(cmp1.expected).toBe(VALID);
    expect(cmp1.inChekt).toBe(VALID);
    // Each contact was committed exactly once: a create whose answer was dropped was looked up, not re-sent.
    const w1 = committedWrites(h.sandbox);
    expect(w1).toEqual({ POST: VALID, PUT: [], DELETE: [] });
    // The ledger points at the one CHeKT copy of every contact.
    const all = h.sandbox.allContacts();
    const byKey = new Map(all.map((c) => [`${c.dealerId}/${c.siteId}/${c.external_contact_id}`, String(c.contact_id)]));
    const ledger = await h.app.db.syncLedger.findMany({ where: { chektContactId: { not: null } } });
    expect(ledger).toHaveLength(VALID);
    for (const l of ledger) expect(l.chektContactId).toBe(byKey.get(`${l.chektDealerId}/${l.chektSiteId}/${l.externalContactId}`));

    // Edit 5 % and soft-delete 1 %, then sync again under the same faults.
    const pathOf = new Map(all.map((c) => [c.external_contact_id, `/partner/v1/dealers/${c.dealerId}/sites/${c.siteId}/contacts/${c.contact_id}`]));
    const { edited, deleted } = await editSample(h.app.db, { seed: 5, editShare: 0.05, deleteShare: 0.01 });
    expect(edited).toHaveLength(26);
    expect(deleted).toHaveLength(5);
    h.sandbox.resetStats();
    const second = await syncAtMostTwice(h.app);
    const stats2 = h.sandbox.stats();
    // 120 lists at 20 % 503: some certainly failed. (Dropped answers are likely but not certain among ~30 writes.)
    expect(stats2.byStatus['503'] ?? 0).toBeGreaterThan(0);
    expect(second.report.status).toBe('completed');
    expect(second.report.failures).toEqual([]);
    expect(second.report.held).toEqual([]);
    if (second.runs === 1) expect(second.report.counts).toEqual({ update: { succeeded: 26 }, delete: { succeeded: 5 } });
    const cmp2 = await compareWithCrm(h.app.db, h.sandbox);
    expect(cmp2.duplicates).toEqual([]);
    expect(cmp2.mismatches).toEqual([]);
    expect(cmp2.expected).toBe(VALID - 5);
    expect(cmp2.inChekt).toBe(VALID - 5);
    // Exactly the edited contacts were written (a PUT may repeat after a dropped answer: same path), and each
    // deleted contact was deleted once (a repeat after a dropped answer gets 404, which does not commit).
    const w2 = committedWrites(h.sandbox);
    expect(w2.POST).toBe(0);
    expect([...new Set(w2.PUT)].sort()).toEqual(edited.map((id) => pathOf.get(id)).sort());
    expect([...w2.DELETE].sort()).toEqual(deleted.map((id) => pathOf.get(id)).sort());

    // Nothing left to do: without faults or limit, a last sync writes nothing.
    h.sandbox.setFaults({ errorRate: 0, dropAfterCommitRate: 0, latencyMs: 0 });
    h.sandbox.setRateLimit(0);
    h.sandbox.resetStats();
    // The service keeps the rate it lowered after the 429s for 10 minutes (chekt/rateLimiter.ts ADAPT_TTL_MS):
    // let them pass, or the 121 calls below take 10 s.
    await h.app.redis.del(`${rateKey(h)}:learned-per-minute`);
    const quiet = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 60_000 });
    expect(quiet.counts).toEqual({});
    expect(h.sandbox.stats().writes).toBe(0);
    expect(h.sandbox.stats().byRoute['GET /partner/v1/dealers/:dealerId/sites/:siteId/contacts']).toBe(SITES);
  }, 150_000);
});

describe('time zones: CRM sessions in America/Los_Angeles, the service in Asia/Seoul', () => {
  const TZ = 'Asia/Seoul';
  const DB_TZ = 'America/Los_Angeles';
  let fx: ProcessFixture;
  /** A session with the database's default time zone, as the CRM's own writers have. */
  let crm: pg.Client;

  beforeAll(async () => {
    fx = await createProcessFixture(
      'ftz',
      [
        { dealerId: '77', siteId: '1' },
        { dealerId: '77', siteId: '2' },
      ],
      { TZ, LOG_LEVEL: 'info', FAILED_RETRY_COOLDOWN_SECONDS: '3600' },
    );
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(new URL(fx.databaseUrl).pathname.slice(1))} SET timezone TO '${DB_TZ}'`);
    } finally {
      await admin.end();
    }
    crm = new pg.Client({ connectionString: fx.databaseUrl });
    await crm.connect();
    await crm.query(`INSERT INTO sites (id, chekt_dealer_id, chekt_site_id, name) VALUES ('s1', '77', '1', 'Seoul HQ'), ('s2', '77', '2', 'LA Depot')`);
    await crm.query(`
      INSERT INTO contacts (id, site_id, first_name, last_name, phone_number, email) VALUES
        ('tz-1', 's1', 'Ji-woo', 'Kim', '+82 10-2345-6789', 'jiwoo@example.kr'),
        ('tz-2', 's1', 'Min', 'Park', '+82 10-2345-6790', NULL),
        ('tz-3', 's1', 'Hana', 'Lee', NULL, 'hana@example.kr'),
        ('tz-bad', 's1', 'Rejected', 'By CHeKT', '+1 212 736 1000', NULL),
        ('tz-5', 's2', 'Ana', 'Lopez', '(213) 736-1000', 'ana@example.com'),
        ('tz-6', 's2', 'Ben', 'Ng', '(213) 736-1001', NULL),
        ('tz-7', 's2', 'Cy', 'Oh', NULL, NULL),
        ('tz-8', 's2', 'Dee', 'Roe', '213.736.1002', 'DEE@example.com')`);
  }, 60_000);

  afterAll(async () => {
    await crm?.end();
    await fx?.close();
  });

  /** Scheduled ticks the service's control worker completed (the job scheduler keeps the last 100). */
  async function completedTicks(): Promise<number> {
    const redis = new Redis(REDIS_URL);
    const control = new Queue(CONTROL_QUEUE, { connection: redis, prefix: fx.env.QUEUE_PREFIX! });
    try {
      return (await control.getJobs(['completed'])).filter((j) => j.name === 'tick').length;
    } finally {
      await control.close();
      redis.disconnect();
    }
  }

  /** Epoch ms of a timestamptz column, computed by PostgreSQL (independent of any client's time zone handling). */
  async function epochs(sql: string, params: unknown[] = []): Promise<Array<Record<string, number | null>>> {
    const r = await crm.query(sql, params);
    return r.rows.map((row: Record<string, string | null>) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? null : Number(v)])));
  }

  test("a sync converges; run times and the failed contact's cool-down and pending time are not shifted", async () => {
    expect((await crm.query('SHOW timezone')).rows[0].TimeZone).toBe(DB_TZ);
    fx.sandbox.setFaults({ rejectExternalContactIds: ['tz-bad'] });

    // 1. `npm run sync` in Asia/Seoul against a database whose sessions default to Los Angeles.
    const t0 = Date.now();
    const r = await waitExit(startNode('src/cli/sync.ts', fx.env, ['--json']), 60_000);
    const t1 = Date.now();
    expect(r.code).toBe(1); // tz-bad is refused by CHeKT (400): a failed operation
    const report = JSON.parse(r.stdout) as JsonRunReport;
    expect(report.status).toBe('completed_with_failures');
    expect(report.counts).toEqual({ create: { succeeded: 7, failed: 1 } });
    expect(report.failures.map((f) => f.externalContactId)).toEqual(['tz-bad']);
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
    expect(report.durationMs).toBeLessThanOrEqual(t1 - t0);
    const cmp = await compareWithCrm(fx.db, fx.sandbox);
    expect(cmp.duplicates).toEqual([]);
    expect(cmp.mismatches).toEqual(['77/1 tz-bad: missing in CHeKT']);

    // Run times, as PostgreSQL sees them and as Prisma reads them, are within seconds of the test's clock.
    const within = (ms: number | null | undefined, from = t0, to = t1) => {
      expect(ms).not.toBeNull();
      expect(ms).toBeGreaterThanOrEqual(from - 2000);
      expect(ms).toBeLessThanOrEqual(to + 2000);
    };
    const [run1] = await epochs(
      `SELECT extract(epoch FROM started_at) * 1000 AS started, extract(epoch FROM crm_read_at) * 1000 AS crm_read,
                                        extract(epoch FROM planned_at) * 1000 AS planned, extract(epoch FROM finished_at) * 1000 AS finished
                                   FROM sync_runs WHERE id = $1`,
      [report.runId],
    );
    for (const k of ['started', 'crm_read', 'planned', 'finished']) within(run1![k]);
    expect(run1!.started!).toBeLessThanOrEqual(run1!.planned!);
    expect(run1!.planned!).toBeLessThanOrEqual(run1!.finished!);
    const viaPrisma = await fx.db.syncRun.findUniqueOrThrow({ where: { id: report.runId } });
    expect(viaPrisma.startedAt.getTime()).toBe(run1!.started);
    expect(viaPrisma.finishedAt?.getTime()).toBe(run1!.finished);

    // The failed contact: failed now (not hours ago or ahead), still pending.
    const [bad] = await epochs(`SELECT extract(epoch FROM failed_at) * 1000 AS failed, extract(epoch FROM pending_since) * 1000 AS pending
                                  FROM sync_ledger WHERE external_contact_id = 'tz-bad'`);
    within(bad!.failed);
    within(bad!.pending);

    // 2. The service in Asia/Seoul: a CRM edit (written in a Los Angeles session) syncs through the notification
    // and tick path, which plans site s1 again, and tz-bad stays in its one-hour cool-down (a failed_at shifted
    // hours into the past would end it and retry the create).
    fx.sandbox.resetStats();
    const port = await freePort();
    const t2 = Date.now();
    const service = startNode('src/main.ts', { ...fx.env, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', ADMIN_USER: 'ops', ADMIN_PASSWORD: 'a-long-admin-password', SYNC_INTERVAL_SECONDS: '5' });
    let stopped;
    try {
      await pollUntil(
        'the service to serve /healthz',
        () =>
          fetch(`http://127.0.0.1:${port}/healthz`).then(
            (x) => x.ok,
            () => false,
          ),
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      await crm.query(`UPDATE contacts SET last_name = 'Park-Edited', updated_at = now() WHERE id = 'tz-2'`);
      await pollUntil('tz-2 edited in CHeKT', () => fx.sandbox.contacts('77', '1').find((c) => c.external_contact_id === 'tz-2')?.last_name === 'Park-Edited', { timeoutMs: 30_000 });
      // Let one more scheduled tick (every 5 s) complete after the edit was applied.
      const ticksBefore = await completedTicks();
      await pollUntil('a tick after the edit', async () => (await completedTicks()) > ticksBefore, { timeoutMs: 15_000, intervalMs: 250 });
    } finally {
      service.kill('SIGTERM');
      stopped = await waitExit(service, 30_000);
    }
    const t3 = Date.now();
    expect(stopped.code).toBe(0);
    expect(fx.sandbox.stats().byRoute['POST /partner/v1/dealers/:dealerId/sites/:siteId/contacts'] ?? 0).toBe(0);
    const [badAfter] = await epochs(`SELECT extract(epoch FROM failed_at) * 1000 AS failed FROM sync_ledger WHERE external_contact_id = 'tz-bad'`);
    expect(badAfter!.failed).toBe(bad!.failed);
    // The service's runs: only tz-2, and their times within the service's lifetime.
    const runs = await epochs(
      `SELECT extract(epoch FROM started_at) * 1000 AS started, extract(epoch FROM finished_at) * 1000 AS finished
                                 FROM sync_runs WHERE id <> $1`,
      [report.runId],
    );
    expect(runs.length).toBeGreaterThanOrEqual(1);
    for (const x of runs) {
      within(x.started, t2, t3);
      within(x.finished, t2, t3);
    }
    const ops = await fx.db.syncOperation.findMany({ where: { runId: { not: report.runId } } });
    expect(ops.map((o) => [o.externalContactId, o.kind, o.outcome])).toEqual(ops.map(() => ['tz-2', 'update', 'succeeded']));
    expect(ops.length).toBeGreaterThanOrEqual(1);
    expect((await compareWithCrm(fx.db, fx.sandbox)).mismatches).toEqual(['77/1 tz-bad: missing in CHeKT']);
  }, 90_000);
});
