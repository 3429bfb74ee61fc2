import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildHttpServer } from '../../src/http/server.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/** The HTTP API and dashboard over real HTTP: auth, resync, runs, health (issue 2, point 8 and 9). */

let h: Harness;
let server: FastifyInstance;
let base: string;
const auth = `Basic ${Buffer.from('ops:correct horse battery').toString('base64')}`;
const call = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init);
const authed = (path: string, init: RequestInit = {}) =>
  call(path, { ...init, headers: { authorization: auth, 'content-type': 'application/json', ...(init.headers ?? {}) } });

beforeAll(async () => {
  h = await createHarness('http');
  await seedCrm(h, [{ id: 's1', dealerId: '7', siteId: '70' }], [
    { id: 'h1', siteId: 's1', firstName: 'Hana', lastName: 'Sato', phoneNumber: '+81 3-1234-5678' },
    { id: 'h2', siteId: 's1', firstName: 'Ivo', lastName: 'Petrov', email: 'ivo@example.com' },
  ]);
  await h.app.startWorkers();
  server = await buildHttpServer(h.app, { user: 'ops', password: 'correct horse battery' });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const addr = server.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await h?.close();
});

describe('HTTP', () => {
  test('/healthz is open', async () => {
    const res = await call('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  test.each([
    ['GET', '/admin/queues'],
    ['GET', '/api/runs/00000000-0000-4000-8000-000000000000'],
    ['POST', '/api/resync'],
  ])('%s %s answers 401 without credentials and with wrong ones', async (method, path) => {
    const none = await call(path, { method });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    const wrong = await call(path, { method, headers: { authorization: `Basic ${Buffer.from('ops:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
  });

  test('the dashboard answers with credentials', async () => {
    const res = await authed('/admin/queues');
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/<html/i);
    const queues = await authed('/admin/queues/api/queues');
    expect(queues.status).toBe(200);
    const body = (await queues.json()) as { queues: Array<{ name: string }> };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['contact-operations', 'sync-control']);
  });

  test('POST /api/resync validates its body and names the field', async () => {
    const bad = await authed('/api/resync', { method: 'POST', body: JSON.stringify({ sites: ['no-slash'] }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_request', field: 'sites' } });
    const wrongType = await authed('/api/resync', { method: 'POST', body: JSON.stringify({ dryRun: 'yes' }) });
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toMatchObject({ error: { field: 'dryRun' } });
  });

  test('POST /api/resync answers 202 with a run id; GET /api/runs/:id returns that run when done', async () => {
    const res = await authed('/api/resync', { method: 'POST', body: JSON.stringify({ sites: ['7/70'] }) });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    let run: { status: string; counts: unknown; trigger: string } | undefined;
    for (let i = 0; i < 100; i++) {
      const r = await authed(`/api/runs/${runId}`);
      expect(r.status).toBe(200);
      run = (await r.json()) as typeof run;
      if (run?.status === 'completed') break;
      await sleep(100);
    }
    expect(run).toMatchObject({ status: 'completed', trigger: 'api', counts: { create: { succeeded: 2 } } });
    expect(h.sandbox.contacts('7', '70').map((c) => c.external_contact_id).sort()).toEqual(['h1', 'h2']);
  });

  test('a dry run over the API writes nothing', async () => {
    await h.app.db.contact.update({ where: { id: 'h2' }, data: { lastName: 'Petrova' } });
    h.sandbox.resetStats();
    const res = await authed('/api/resync', { method: 'POST', body: JSON.stringify({ dryRun: true }) });
    const { runId } = (await res.json()) as { runId: string };
    let run: { status: string; counts: unknown; dryRun: boolean } | undefined;
    for (let i = 0; i < 100 && run?.status !== 'completed'; i++) {
      await sleep(100);
      run = (await (await authed(`/api/runs/${runId}`)).json()) as typeof run;
    }
    expect(run).toMatchObject({ status: 'completed', dryRun: true, counts: { update: { planned: 1 } } });
    expect(h.sandbox.stats().writes).toBe(0);
  });

  test('an unknown run is 404', async () => {
    expect((await authed('/api/runs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await authed('/api/runs/not-a-uuid')).status).toBe(404);
  });
});
