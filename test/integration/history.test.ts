import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { runSync } from '../../src/cli/runSync.js';
import { toRunDetailJson, type JsonRunReport } from '../../src/domain/runReport.js';
import { readRun, readRunOperations } from '../../src/source/readModel/runs.js';
import { buildHttpServer } from '../../src/http/server.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * Run history and per-site state over real HTTP (docs/CONSOLE.md#http-api): `GET /api/runs` paging, `GET /api/runs/:id` operations,
 * holds and drift repairs, `GET /api/sites/:dealerId/:siteId` contact states. Bodies carry ids, states and
 * reasons only: the CRM's names, phones and emails never appear. Tests run in order and share state.
 */

let h: Harness;
let server: FastifyInstance;
let base: string;
const auth = `Basic ${Buffer.from('ops:correct horse battery').toString('base64')}`;
const get = async (path: string) => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: auth } });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Record<string, any> };
};
const sync = () => runSync(h.app, { trigger: 'cli', dryRun: false, sites: [], timeoutMs: 60_000 });

/** Personal data seeded below; no response may contain any of it. */
const PERSONAL = ['Zelinda', 'Quartermaine', '555-0199', '5550199', 'zelinda.q@example.com', 'Oswin', 'Pettigrew', 'oswin@example.org', 'Nobody', 'Ghostly'];
const expectNoPersonalData = (text: string) => {
  for (const p of PERSONAL) expect(text).not.toContain(p);
};

let first: JsonRunReport;
let second: JsonRunReport;
let third: JsonRunReport;

beforeAll(async () => {
  h = await createHarness('history');
  await seedCrm(
    h,
    [
      { id: 'site-1', dealerId: '9', siteId: '1', name: 'North depot' },
      { id: 'site-2', dealerId: '9', siteId: '2', name: 'South depot' },
    ],
    [
      { id: 'ok-1', siteId: 'site-1', firstName: 'Zelinda', lastName: 'Quartermaine', phoneNumber: '+1 201 555 0199', email: 'zelinda.q@example.com' },
      { id: 'bad-1', siteId: 'site-1', firstName: 'Oswin', lastName: 'Pettigrew', email: 'oswin@example.org' },
      { id: 'inv-1', siteId: 'site-1', firstName: '  ', lastName: 'Nobody' },
      { id: 'ok-2', siteId: 'site-2', firstName: 'Ghostly', lastName: 'Pettigrew' },
    ],
  );
  // A contact deleted in the CRM before it was ever synced: not shown (no ledger row).
  await h.app.db.contact.create({ data: { id: 'gone-early', siteId: 'site-1', firstName: 'Oswin', lastName: 'Nobody', deletedAt: new Date() } });
  // A contact a dealer added in CHeKT's portal: unmanaged, counted per site.
  h.sandbox.seedContact('9', '1', { external_contact_id: 'portal-9', first_name: 'Ghostly', last_name: 'Portal', phone_number: null, email: null });
  // CHeKT refuses this contact: its create fails for good (400).
  h.sandbox.setFaults({ rejectExternalContactIds: ['bad-1'] });
  await h.app.startWorkers({ control: false });
  first = await sync();
  // A dealer deletes ok-1 in CHeKT's portal: the next reconcile recreates it (drift repair).
  const ok1 = h.sandbox.contacts('9', '1').find((c) => c.external_contact_id === 'ok-1')!;
  h.sandbox.deleteContactDirect('9', '1', Number(ok1.contact_id));
  second = await sync();
  third = await sync();
  server = await buildHttpServer(h.app, { admin: { user: 'ops', password: 'correct horse battery' } });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const addr = server.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}, 120_000);

afterAll(async () => {
  await server?.close();
  await h?.close();
});

describe('GET /api/runs', () => {
  test('lists runs newest first with counts, failures and drift repairs', async () => {
    const { status, body, text } = await get('/api/runs');
    expect(status).toBe(200);
    expectNoPersonalData(text);
    expect(body.items.map((r: { id: string }) => r.id)).toEqual([third.runId, second.runId, first.runId]);
    expect(body.nextCursor).toBeNull();
    const [, two, one] = body.items;
    expect(one).toMatchObject({ trigger: 'cli', mode: 'reconcile', dryRun: false, status: 'completed_with_failures', failures: 1, held: 0, driftRepaired: 0 });
    expect(one.counts).toEqual({ create: { succeeded: 2, failed: 1 } });
    expect(one.totals).toMatchObject({ sites: 2, creates: 3, invalid: 1 });
    expect(Date.parse(one.startedAt)).toBeLessThanOrEqual(Date.parse(one.finishedAt));
    expect(two).toMatchObject({ driftRepaired: 1 });
    expect(two.counts.create.succeeded).toBeGreaterThanOrEqual(1);
  });

  test('pages with limit and the nextCursor, and with an ISO time', async () => {
    const p1 = await get('/api/runs?limit=2');
    expect(p1.body.items.map((r: { id: string }) => r.id)).toEqual([third.runId, second.runId]);
    expect(p1.body.nextCursor).toBe(second.runId);
    const p2 = await get(`/api/runs?limit=2&before=${p1.body.nextCursor}`);
    expect(p2.body.items.map((r: { id: string }) => r.id)).toEqual([first.runId]);
    expect(p2.body.nextCursor).toBeNull();
    const secondStart = (await get(`/api/runs/${second.runId}`)).body.startedAt as string;
    const byTime = await get(`/api/runs?before=${encodeURIComponent(secondStart)}`);
    expect(byTime.body.items.map((r: { id: string }) => r.id)).toEqual([first.runId]);
    // A plain ISO date means its midnight UTC.
    expect((await get('/api/runs?before=2000-01-01')).body.items).toEqual([]);
    expect((await get('/api/runs?before=2999-01-01')).body.items.length).toBeGreaterThanOrEqual(2);
  });

  test.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=1e1', 'limit'],
    ['limit=1&limit=2', 'limit'],
    ['before=yesterday', 'before'],
    ['before=00000000-0000-4000-8000-000000000000', 'before'],
    ['limt=5', 'limt'],
  ])('400 names the field for ?%s', async (query, field) => {
    const { status, body } = await get(`/api/runs?${query}`);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'invalid_request', field });
  });
});

describe('GET /api/runs/:id', () => {
  test('keeps the sync report and adds paged operations, holds and drift repairs', async () => {
    const { status, body, text } = await get(`/api/runs/${first.runId}`);
    expect(status).toBe(200);
    expectNoPersonalData(text);
    // Today's fields are still there.
    expect(body).toMatchObject({ runId: first.runId, status: 'completed_with_failures', trigger: 'cli', counts: { create: { succeeded: 2, failed: 1 } } });
    expect(body.invalid).toEqual([{ site: '9/1', externalContactId: 'inv-1', reason: 'first_name is empty' }]);
    expect(body.unmanagedBySite).toEqual({ '9/1': 1 });
    expect(body).toMatchObject({ mode: 'reconcile', approveDeletes: false, held: [], driftRepaired: 0 });
    expect(body.operations).toMatchObject({ total: 3, limit: 100, offset: 0 });
    expect(body.operations.items.map((o: { externalContactId: string; outcome: string }) => [o.externalContactId, o.outcome])).toEqual([
      ['bad-1', 'failed'],
      ['ok-1', 'succeeded'],
      ['ok-2', 'succeeded'],
    ]);
    const bad = body.operations.items[0];
    expect(bad).toMatchObject({ dealerId: '9', siteId: '1', kind: 'create', reason: 'missing_in_chekt', outcome: 'failed' });
    expect(bad.error).toMatch(/400/);
    expect(bad.attempts).toBeGreaterThanOrEqual(1);
    expect(Object.keys(bad).sort()).toEqual(['appliedKind', 'attempts', 'dealerId', 'error', 'externalContactId', 'kind', 'outcome', 'reason', 'siteId']);
  });

  test('pages operations with opsLimit and opsOffset', async () => {
    const { body } = await get(`/api/runs/${first.runId}?opsLimit=1&opsOffset=1`);
    expect(body.operations).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(body.operations.items.map((o: { externalContactId: string }) => o.externalContactId)).toEqual(['ok-1']);
  });

  test('counts the drift repair of the second run', async () => {
    const { body } = await get(`/api/runs/${second.runId}`);
    expect(body.driftRepaired).toBe(1);
    const repaired = body.operations.items.find((o: { externalContactId: string }) => o.externalContactId === 'ok-1');
    expect(repaired).toMatchObject({ kind: 'create', reason: 'drift_deleted', outcome: 'succeeded' });
  });

  test('shows the sites whose deletes a run held: from the plan, else from the holds the run wrote', async () => {
    const runId = first.runId;
    const row = await h.app.db.syncRun.findUniqueOrThrow({ where: { id: runId } });
    const { held: _held, ...withoutHeld } = row.planned as Record<string, unknown>;
    const hold = { site: '9/2', reason: 'the CRM lists no live contact for this site', deletes: 1, managed: 1 };
    try {
      await h.app.db.syncRun.update({ where: { id: runId }, data: { planned: { ...withoutHeld, held: [hold] } } });
      expect((await get(`/api/runs/${runId}`)).body.held).toEqual([hold]);
      const listed = (await get(`/api/runs?before=${second.runId}`)).body.items[0];
      expect(listed).toMatchObject({ id: runId, held: 1 });

      await h.app.db.syncRun.update({ where: { id: runId }, data: { planned: withoutHeld as object } });
      await h.app.db.syncHold.create({ data: { chektDealerId: '9', chektSiteId: '2', reason: hold.reason, deletes: 1, managed: 1, runId } });
      expect((await get(`/api/runs/${runId}`)).body.held).toEqual([hold]);
    } finally {
      await h.app.db.syncHold.deleteMany({});
      await h.app.db.syncRun.update({ where: { id: runId }, data: { planned: row.planned as object } });
    }
  });

  test('the run row is read once for its detail: the operations page takes the run already read', async () => {
    const calls: string[] = [];
    const counted = h.app.db.$extends({
      query: {
        $allModels: {
          async $allOperations({ model, operation, args, query }) {
            calls.push(`${model}.${operation}`);
            return query(args);
          },
        },
      },
    }) as unknown as typeof h.app.db;
    const run = await readRun(counted, first.runId);
    const page = await readRunOperations(counted, run!, { limit: 100, offset: 0 });
    expect(toRunDetailJson(run!, page)).toEqual((await get(`/api/runs/${first.runId}`)).body);
    expect(calls.filter((c) => c.startsWith('SyncRun.'))).toEqual(['SyncRun.findUnique']);
  });

  test('a stored summary no version wrote is a 200 naming what could not be read, not a 500', async () => {
    const runId = first.runId;
    const row = await h.app.db.syncRun.findUniqueOrThrow({ where: { id: runId } });
    const stored = row.planned as Record<string, unknown>;
    try {
      await h.app.db.syncRun.update({ where: { id: runId }, data: { planned: { ...stored, totals: 'lost', invalid: 'lost' } } });
      const one = await get(`/api/runs/${runId}`);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ runId, planned: null, invalid: [], unmanagedBySite: { '9/1': 1 }, counts: { create: { succeeded: 2, failed: 1 } } });
      expect(one.body.sites.planned).toBe(0);
      expect(one.body.summaryProblems).toEqual(['planned.totals: Invalid input: expected object, received string', 'planned.invalid: Invalid input: expected array, received string']);
      const listed = (await get(`/api/runs?before=${second.runId}`)).body.items[0];
      expect(listed).toMatchObject({ id: runId, totals: null, failures: 1 });

      await h.app.db.syncRun.update({ where: { id: runId }, data: { planned: 'garbage' } });
      const garbage = await get(`/api/runs/${runId}`);
      expect(garbage.status).toBe(200);
      expect(garbage.body).toMatchObject({ planned: null, held: [], summaryProblems: ['planned: expected a JSON object, received string'] });
      // A readable summary adds no field.
      await h.app.db.syncRun.update({ where: { id: runId }, data: { planned: stored as object } });
      expect((await get(`/api/runs/${runId}`)).body).not.toHaveProperty('summaryProblems');
    } finally {
      await h.app.db.syncRun.update({ where: { id: runId }, data: { planned: stored as object } });
    }
  });

  test('400 names the field for bad paging; 404 for an unknown run', async () => {
    for (const [q, field] of [
      ['opsLimit=0', 'opsLimit'],
      ['opsLimit=1001', 'opsLimit'],
      ['opsOffset=-1', 'opsOffset'],
      ['ops=1', 'ops'],
    ] as const) {
      const { status, body } = await get(`/api/runs/${first.runId}?${q}`);
      expect(status).toBe(400);
      expect(body.error.field).toBe(field);
    }
    expect((await get('/api/runs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});

describe('GET /api/sites/:dealerId/:siteId', () => {
  test('gives each contact its state and reason: synced, failed, invalid; personal data never', async () => {
    const { status, body, text } = await get('/api/sites/9/1');
    expect(status).toBe(200);
    expectNoPersonalData(text);
    expect(body).toMatchObject({ dealerId: '9', siteId: '1', crmSiteId: 'site-1', name: 'North depot', syncEnabled: true, hold: null });
    const byId = Object.fromEntries(body.contacts.map((c: { externalContactId: string }) => [c.externalContactId, c]));
    expect(Object.keys(byId).sort()).toEqual(['bad-1', 'inv-1', 'ok-1']);
    expect(byId['ok-1']).toMatchObject({ crm: 'live', state: 'synced', reason: null, pendingSince: null });
    expect(byId['ok-1'].chektContactId).toEqual(expect.any(String));
    expect(Date.parse(byId['ok-1'].syncedAt)).not.toBeNaN();
    expect(byId['bad-1']).toMatchObject({ crm: 'live', state: 'failed', chektContactId: null, syncedAt: null });
    expect(byId['bad-1'].reason).toMatch(/400/);
    expect(byId['inv-1']).toMatchObject({ crm: 'live', state: 'invalid', reason: 'first_name is empty', chektContactId: null });
    expect(body.counts).toEqual({ synced: 1, failed: 1, invalid: 1 });
    // A failed change is still not applied: when the ledger keeps its pending_since, it is the oldest one.
    if (byId['bad-1'].pendingSince === null) expect(body.oldestUnsyncedChangeAgeSeconds).toBeNull();
    else expect(body.oldestUnsyncedChangeAgeSeconds).toBeGreaterThanOrEqual(0);
    for (const c of body.contacts)
      expect(Object.keys(c).sort()).toEqual(['chektContactId', 'crm', 'externalContactId', 'pendingSince', 'phoneType', 'reachProblem', 'reason', 'smsCapable', 'state', 'syncedAt']);
  });

  test('shows a hold, a pending change with its age, and ledger-only rows', async () => {
    await h.app.db.syncHold.create({ data: { chektDealerId: '9', chektSiteId: '2', reason: 'would delete 100 % of the managed contacts', deletes: 1, managed: 1 } });
    await h.app.db.contact.create({ data: { id: 'new-2', siteId: 'site-2', firstName: 'Oswin', lastName: 'Quartermaine' } });
    await h.app.db.$executeRaw`INSERT INTO sync_ledger (chekt_dealer_id, chekt_site_id, external_contact_id, pending_since)
      VALUES ('9', '2', 'new-2', clock_timestamp() - interval '2 minutes')`;
    // A run whose delete of ok-2 waits for the hold.
    const heldRun = '00000000-0000-4000-8000-0000000000aa';
    await h.app.db.syncRun.create({ data: { id: heldRun, trigger: 'schedule', status: 'completed', planned: { totals: {} } } });
    await h.app.db.syncOperation.create({
      data: { runId: heldRun, opKey: 'op/9/2/ok-2', chektDealerId: '9', chektSiteId: '2', externalContactId: 'ok-2', kind: 'delete', reason: 'removed_from_crm', outcome: 'held' },
    });
    await h.app.db.syncLedger.create({
      data: { chektDealerId: '9', chektSiteId: '2', externalContactId: 'crm-row-removed', chektContactId: '77', lastKind: 'create', lastOutcome: 'succeeded', syncedAt: new Date() },
    });
    try {
      const { body, text } = await get('/api/sites/9/2');
      expectNoPersonalData(text);
      expect(body.hold).toMatchObject({ reason: 'would delete 100 % of the managed contacts', deletes: 1, managed: 1, runId: null });
      const byId = Object.fromEntries(body.contacts.map((c: { externalContactId: string }) => [c.externalContactId, c]));
      expect(byId['new-2']).toMatchObject({ crm: 'live', state: 'pending', chektContactId: null });
      expect(byId['crm-row-removed']).toMatchObject({ crm: 'absent', state: 'synced', chektContactId: '77' });
      expect(byId['ok-2']).toMatchObject({ state: 'held', reason: 'would delete 100 % of the managed contacts' });
      expect(body.oldestUnsyncedChangeAgeSeconds).toBeGreaterThanOrEqual(120);
      expect(body.oldestUnsyncedChangeAgeSeconds).toBeLessThan(600);
    } finally {
      await h.app.db.syncHold.deleteMany({});
      await h.app.db.syncLedger.deleteMany({ where: { externalContactId: { in: ['new-2', 'crm-row-removed'] } } });
      await h.app.db.contact.deleteMany({ where: { id: 'new-2' } });
      await h.app.db.syncRun.delete({ where: { id: heldRun } });
    }
  });

  test('404 for a site no CRM site maps to', async () => {
    const { status, body } = await get('/api/sites/9/404');
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
  });

  test('404, not 500, for an id PostgreSQL cannot hold (a NUL byte)', async () => {
    const { status, body } = await get('/api/sites/%00/1');
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
  });
});
