import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { runSync } from '../../src/cli/runSync.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';
import { basic, CREDENTIALS, startHttp, type RunningServer } from './support/http.js';

/**
 * The operator API (docs/CONSOLE.md) over real HTTP, on real PostgreSQL and Redis and the sandbox: holds, status with
 * health, approving a hold (the deletes it showed run in CHeKT), the audit trail (written before the action,
 * bull-board's writes included), and the console pages per role (docs/CONSOLE.md).
 */

let h: Harness;
let http: RunningServer;
const as = (who: 'admin' | 'viewer', path: string, init: RequestInit = {}) =>
  fetch(`${http.base}${path}`, { ...init, headers: { authorization: basic(CREDENTIALS[who].user, CREDENTIALS[who].password), ...(init.headers ?? {}) } });

async function settled(runId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const run = (await (await as('admin', `/api/runs/${runId}`)).json()) as Record<string, unknown>;
    if (run.status !== 'planning' && run.status !== 'running') return run;
    await sleep(100);
  }
  throw new Error(`run ${runId} did not settle`);
}

beforeAll(async () => {
  h = await createHarness('console_api');
  await seedCrm(
    h,
    [
      { id: 'a', dealerId: '61', siteId: '1' },
      { id: 'b', dealerId: '61', siteId: '2' },
    ],
    [
      { id: 'c1', siteId: 'a', firstName: 'Ada', lastName: 'Lind' },
      { id: 'c2', siteId: 'a', firstName: 'Bo', lastName: 'Ek' },
      { id: 'c3', siteId: 'a', firstName: 'Cy', lastName: 'Oh' },
      { id: 'f1', siteId: 'b', firstName: 'Di', lastName: 'Ng' },
    ],
  );
  h.sandbox.setFaults({ rejectExternalContactIds: ['f1'] });
  const first = await runSync(h.app, { trigger: 'cli', dryRun: false, sites: [], timeoutMs: 60_000 });
  expect(first.status).toBe('completed_with_failures');
  await h.app.db.contact.updateMany({ where: { id: { in: ['c2', 'c3'] } }, data: { deletedAt: new Date() } });
  const second = await runSync(h.app, { trigger: 'cli', dryRun: false, sites: [], timeoutMs: 60_000 });
  expect(second.status).toBe('held');
  expect(second.held).toEqual([expect.objectContaining({ site: '61/1', deletes: 2, managed: 3 })]);
  await h.app.startWorkers();
  http = await startHttp(h.app);
}, 120_000);

afterAll(async () => {
  await http?.server.close();
  await h?.close();
});

describe('operator API', () => {
  test('GET /api/holds lists the held site as dealerId/siteId', async () => {
    const res = await as('viewer', '/api/holds');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      items: [{ site: '61/1', reason: expect.stringMatching(/%/), deletes: 2, managed: 3, since: expect.any(String), runId: expect.any(String) }],
    });
  });

  test('GET /api/status is what npm run status --json prints, with health', async () => {
    const body = (await (await as('viewer', '/api/status')).json()) as Record<string, any>;
    expect(body.holds).toEqual([expect.objectContaining({ site: '61/1', deletes: 2 })]);
    expect(body.failures).toMatchObject({ total: 1, items: [{ site: '61/2', externalContactId: 'f1' }] });
    expect(body.runs.map((r: { status: string }) => r.status)).toEqual(['held', 'completed_with_failures']);
    expect(body.health).toEqual({ healthy: false, behindSeconds: 900, problems: ['1 site(s) on hold: 61/1', '1 contact(s) failed for good'] });
    expect((await as('viewer', '/api/status?x=1')).status).toBe(400);
  });

  test('the viewer may not approve (403, nothing recorded); a site without a hold is 404', async () => {
    const viewer = await as('viewer', '/api/holds/61/1/approve', { method: 'POST' });
    expect(viewer.status).toBe(403);
    expect(await h.app.db.syncAudit.count()).toBe(0);
    const none = await as('admin', '/api/holds/61/2/approve', { method: 'POST' });
    expect(none.status).toBe(404);
    expect(await none.json()).toEqual({ error: { code: 'not_found', message: 'site 61/2 has no deletion hold' } });
  });

  test('an approval runs exactly the held deletes, lifts the hold, and the audit names the operator', async () => {
    const res = await as('admin', '/api/holds/61/1/approve', { method: 'POST' });
    expect(res.status).toBe(202);
    const { runId, href } = (await res.json()) as { runId: string; href: string };
    expect(href).toBe(`/api/runs/${runId}`);
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'completed', trigger: 'api', approveDeletes: true, counts: { delete: { succeeded: 2 } } });
    expect(h.sandbox.contacts('61', '1').map((c) => c.external_contact_id)).toEqual(['c1']);
    expect(await h.app.db.syncHold.count()).toBe(0);
    const audit = (await (await as('viewer', '/api/audit')).json()) as { items: Array<Record<string, unknown>>; nextCursor: string | null };
    expect(audit.items[0]).toMatchObject({
      actor: CREDENTIALS.admin.user,
      role: 'operator',
      action: 'hold.approve',
      target: '61/1',
      outcome: 'succeeded',
      detail: `run ${runId}`,
      params: { deletes: 2, managed: 3, externalContactIds: ['c2', 'c3'], via: 'api' },
    });
    expect(Date.parse(audit.items[0]!.at as string)).toBeLessThanOrEqual(Date.parse(run.startedAt as string));
  }, 60_000);

  test('the audit row is written before the action: without it, POST /api/resync answers 503 and starts nothing', async () => {
    const runs = await h.app.db.syncRun.count();
    await h.app.db.$executeRawUnsafe('ALTER TABLE sync_audit RENAME TO sync_audit_away');
    try {
      const res = await as('admin', '/api/resync', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sites":["61/1"],"dryRun":true}' });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: 'audit_unavailable' } });
      const board = await as('admin', '/admin/queues/api/queues/contact-operations/retry/failed', { method: 'PUT' });
      expect(board.status).toBe(503);
    } finally {
      await h.app.db.$executeRawUnsafe('ALTER TABLE sync_audit_away RENAME TO sync_audit');
    }
    expect(await h.app.db.syncRun.count()).toBe(runs);
  });

  test("bull-board's writes are audited with the route's action, target and outcome", async () => {
    expect((await as('admin', '/admin/queues/api/queues/contact-operations/retry/failed', { method: 'PUT' })).status).toBe(200);
    expect((await as('admin', '/admin/queues/api/queues/contact-operations/clean/completed', { method: 'PUT' })).status).toBe(200);
    const missing = await as('admin', '/admin/queues/api/queues/contact-operations/no-such-job/promote', { method: 'PUT' });
    expect(missing.status).toBe(404);
    const remove = await as('admin', '/admin/queues/api/queues/contact-operations/no-such-job/clean', { method: 'PUT' });
    expect(remove.status).toBe(404);
    const items = ((await (await as('admin', '/api/audit?limit=4')).json()) as { items: Array<Record<string, unknown>> }).items;
    expect(items.map((a) => [a.action, a.target, a.outcome, a.detail])).toEqual([
      ['bullboard.job.remove', 'contact-operations/no-such-job', 'failed', 'HTTP 404'],
      ['bullboard.job.promote', 'contact-operations/no-such-job', 'failed', 'HTTP 404'],
      ['bullboard.queue.clean', 'contact-operations', 'succeeded', 'HTTP 200'],
      ['bullboard.queue.retry', 'contact-operations', 'succeeded', 'HTTP 200'],
    ]);
    expect(items[2]).toMatchObject({ actor: CREDENTIALS.admin.user, params: { queueName: 'contact-operations', queueStatus: 'completed', method: 'PUT' } });
  });

  test('GET /api/audit pages newest first; a bad cursor is 400', async () => {
    const first = (await (await as('viewer', '/api/audit?limit=2')).json()) as { items: Array<{ id: string }>; nextCursor: string };
    expect(first.items).toHaveLength(2);
    const next = (await (await as('viewer', `/api/audit?limit=2&before=${first.nextCursor}`)).json()) as { items: Array<{ id: string }> };
    expect(next.items[0]!.id).not.toBe(first.items[1]!.id);
    const all = (await (await as('viewer', '/api/audit?limit=200')).json()) as { items: Array<{ id: string }> };
    expect(all.items.slice(0, 4).map((a) => a.id)).toEqual([...first.items, ...next.items].map((a) => a.id));
    expect((await as('viewer', '/api/audit?before=00000000-0000-4000-8000-000000000000')).status).toBe(400);
  });

  test('console pages: the operator sees action forms, the viewer none; no host but this one; bull-board without web fonts', async () => {
    const op = await as('admin', '/console/sites/61/2');
    expect(op.status).toBe(200);
    expect(op.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const opHtml = await op.text();
    expect(opHtml).toContain('action="/console/sites/61/2/retry"');
    expect(opHtml).toContain('f1');
    const viewerHtml = await (await as('viewer', '/console/sites/61/2')).text();
    expect(viewerHtml).not.toContain('<form');
    const overview = await (await as('viewer', '/console')).text();
    expect(overview).toContain('61/2');
    // The seeded contacts have no phone: both sites are unreachable (the status read's unreachableSites).
    expect(overview).toContain(
      '<h2>Unreachable sites (2)</h2>\n<table><thead><tr><th>site</th><th>contacts</th><th>SMS-capable</th><th>reason</th></tr></thead><tbody>' +
        '<tr><td><a href="/console/sites/61/1">61/1</a></td><td>1</td><td>0</td><td>1 contact: 1 without a phone</td></tr>' +
        '<tr><td><a href="/console/sites/61/2">61/2</a></td><td>1</td><td>0</td><td>1 contact: 1 without a phone</td></tr></tbody></table>',
    );
    expect(opHtml).toContain('<strong>Unreachable</strong>: no contact CHeKT can text (1 contact: 1 without a phone).');
    expect(opHtml).toMatch(/<td><code>f1<\/code><\/td><td>live<\/td><td><span class="badge bad">failed<\/span><\/td><td>[^<]*<\/td><td>none<\/td><td>no<\/td><td><\/td>/);
    for (const text of [opHtml, overview]) expect(text).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const name of ['Ada', 'Lind', 'Di', 'Ng']) expect(overview).not.toContain(`>${name}<`);
    const board = await (await as('viewer', '/admin/queues')).text();
    expect(board).not.toContain('fonts.googleapis.com');
    expect(board).toContain('"miscLinks":[{"text":"Console","url":"/console"}]');
    expect((await as('viewer', '/console/sites/61/404')).status).toBe(404);
    expect((await as('viewer', '/console/runs/nope')).status).toBe(404);
  });

  test('console actions: a dry-run preview, then the real resync, and a retry of failed contacts; each 303 to its run and audited', async () => {
    const form = (path: string, body: string) => as('admin', path, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: http.base }, body });
    const preview = await form('/console/sites/61/2/resync', 'dryRun=true');
    expect(preview.status).toBe(303);
    const previewRun = preview.headers.get('location')!.replace('/console/runs/', '');
    expect(await settled(previewRun)).toMatchObject({ dryRun: true, trigger: 'console', plannedOperations: [{ externalContactId: 'f1', kind: 'create' }] });
    const previewPage = await (await as('admin', `/console/runs/${previewRun}`)).text();
    expect(previewPage).toContain('action="/console/sites/61/2/resync"');
    expect(previewPage).toContain('name="dryRun" value="false"');
    h.sandbox.setFaults({ rejectExternalContactIds: [] });
    const retry = await form('/console/sites/61/2/retry', '');
    expect(retry.status).toBe(303);
    const retryRun = retry.headers.get('location')!.replace('/console/runs/', '');
    expect(await settled(retryRun)).toMatchObject({ status: 'completed', dryRun: false, counts: { create: { succeeded: 1 } } });
    expect(h.sandbox.contacts('61', '2').map((c) => c.external_contact_id)).toEqual(['f1']);
    const items = ((await (await as('admin', '/api/audit?limit=2')).json()) as { items: Array<Record<string, unknown>> }).items;
    expect(items).toEqual([
      expect.objectContaining({ action: 'site.retry_failed', target: '61/2', outcome: 'succeeded', detail: `run ${retryRun}`, params: { dryRun: false, via: 'console', externalContactIds: ['f1'] } }),
      expect.objectContaining({ action: 'site.resync', target: '61/2', outcome: 'succeeded', detail: `run ${previewRun}`, params: { dryRun: true, via: 'console' } }),
    ]);
    // The viewer's form post is refused before anything is recorded.
    const audits = await h.app.db.syncAudit.count();
    const viewer = await as('viewer', '/console/sites/61/2/retry', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(viewer.status).toBe(403);
    expect(await h.app.db.syncAudit.count()).toBe(audits);
  }, 60_000);

  test('the audit trail outlives cleaned jobs and deleted runs', async () => {
    const before = ((await (await as('viewer', '/api/audit?limit=200')).json()) as { items: unknown[] }).items;
    expect(before.length).toBe(7); // 1 approval, 4 bull-board writes, 1 preview, 1 retry
    await h.app.operationsQueue.clean(0, 10_000, 'completed');
    await h.app.db.syncRun.deleteMany({});
    const after = ((await (await as('viewer', '/api/audit?limit=200')).json()) as { items: unknown[] }).items;
    // The clean above was not made over HTTP, so the trail is exactly what it was.
    expect(after).toEqual(before);
  });
});
