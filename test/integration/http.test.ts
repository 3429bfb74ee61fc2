import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildHttpServer } from '../../src/http/server.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/** The HTTP API and dashboard over real HTTP: auth, resync, runs, health (docs/OPERATIONS.md#http-npm-start-port-http_port). */

let h: Harness;
let server: FastifyInstance;
let base: string;
const auth = `Basic ${Buffer.from('ops:correct horse battery').toString('base64')}`;
const call = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init);
const authed = (path: string, init: RequestInit = {}) => call(path, { ...init, headers: { authorization: auth, 'content-type': 'application/json', ...(init.headers ?? {}) } });
const NOT_FOUND = { error: { code: 'not_found', message: 'no such route' } };
const UNAUTHORIZED = { error: { code: 'unauthorized', message: 'valid credentials required' } };

/** Polls `GET /api/runs/:id` until the run is no longer planning or running. */
async function settledRun(runId: string): Promise<Record<string, unknown> | undefined> {
  let run: Record<string, unknown> | undefined;
  for (let i = 0; i < 100; i++) {
    run = (await (await authed(`/api/runs/${runId}`)).json()) as Record<string, unknown>;
    if (run.status !== 'planning' && run.status !== 'running') break;
    await sleep(100);
  }
  return run;
}

beforeAll(async () => {
  h = await createHarness('http');
  await seedCrm(
    h,
    [
      { id: 's1', dealerId: '7', siteId: '70' },
      { id: 's2', dealerId: '7', siteId: '71', syncEnabled: false },
    ],
    [
      { id: 'h1', siteId: 's1', firstName: 'Hana', lastName: 'Sato', phoneNumber: '+81 3-1234-5678' },
      { id: 'h2', siteId: 's1', firstName: 'Ivo', lastName: 'Petrov', email: 'ivo@example.com' },
    ],
  );
  await h.app.startWorkers();
  server = await buildHttpServer(h.app, { admin: { user: 'ops', password: 'correct horse battery' } });
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
    expect(await none.json()).toEqual(UNAUTHORIZED);
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
    expect(
      h.sandbox
        .contacts('7', '70')
        .map((c) => c.external_contact_id)
        .sort(),
    ).toEqual(['h1', 'h2']);
  });

  test('a dry run over the API writes nothing', async () => {
    await h.app.db.contact.updateMany({ where: { id: 'h2' }, data: { lastName: 'Petrova' } });
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

describe('HTTP: POST /api/resync checks the requested sites against the CRM', () => {
  test('a site missing from the CRM or with sync_enabled=false is a 400 naming each one and why; no run is created', async () => {
    const runsBefore = await h.app.db.syncRun.count();
    const res = await authed('/api/resync', { method: 'POST', body: JSON.stringify({ sites: ['7/70', '7/71', '9/99'] }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        code: 'invalid_request',
        field: 'sites',
        message: '7/71: sync_enabled is false for this site; 9/99: no CRM site with this chekt_dealer_id/chekt_site_id',
      },
    });
    expect(await h.app.db.syncRun.count()).toBe(runsBefore);
  });

  test('an empty sites array means every enabled site (the disabled one is not planned)', async () => {
    const res = await authed('/api/resync', { method: 'POST', body: JSON.stringify({ sites: [], dryRun: true }) });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    expect(await settledRun(runId)).toMatchObject({ status: 'completed', sites: { planned: 1, rejected: [] } });
  });
});

describe('HTTP: unknown routes answer the JSON envelope, behind auth where the prefix is', () => {
  test.each([
    ['GET', '/nope'],
    ['POST', '/nope'],
    ['GET', '/'],
    ['GET', '/apix'],
  ])('%s %s (outside /api and /admin) is a 404 without credentials', async (method, path) => {
    const res = await call(path, { method });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(NOT_FOUND);
  });

  test.each([
    ['GET', '/api/nope'],
    ['GET', '/api'],
    ['GET', '/api/resync'],
    ['DELETE', '/api/runs/00000000-0000-4000-8000-000000000000'],
    ['GET', '/admin/nope'],
    ['GET', '/admin/queues/static/nope.js'],
  ])('%s %s is a 401 without credentials, then a 404 with them', async (method, path) => {
    const none = await call(path, { method });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(await none.json()).toEqual(UNAUTHORIZED);
    const res = await authed(path, { method });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual(NOT_FOUND);
  });

  test('GET /api/runs/<5000 characters> is a 401 without credentials, then a 404 that does not echo the id', async () => {
    const path = `/api/runs/${'x'.repeat(5000)}`;
    const none = await call(path);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual(UNAUTHORIZED);
    const res = await authed(path);
    expect(res.status).toBe(404);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'not_found', message: 'no such run' } });
    expect(text).not.toContain('xxxxxxxx');
  });

  test('a body sent to an unknown route does not turn its 404 into a 400', async () => {
    const res = await call('/nope', { method: 'POST', body: '{"sites": [', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual(NOT_FOUND);
  });

  test('a malformed URL (bad percent-encoding) is a 400 envelope without the URL (fastify frameworkErrors)', async () => {
    const bad = await authed('/api/runs/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { code: 'invalid_request', message: 'malformed URL' } });
  });
});

describe('HTTP: request bodies', () => {
  const post = (body: string, contentType?: string) => call('/api/resync', { method: 'POST', body, headers: { authorization: auth, ...(contentType ? { 'content-type': contentType } : {}) } });
  const NOT_JSON = { error: { code: 'invalid_request', message: 'request body must be JSON (Content-Type: application/json)' } };

  test('malformed JSON is a 400 invalid_request', async () => {
    const res = await post('{"sites": [', 'application/json');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'invalid_request', message: "Body is not valid JSON but content-type is set to 'application/json'" } });
  });

  test.each([
    ['text/plain', JSON.stringify({ dryRun: true })],
    ['application/x-www-form-urlencoded', 'dryRun=true'],
    ['application/octet-stream', 'xyz'],
  ])('a %s body is a 400 invalid_request', async (contentType, body) => {
    const res = await post(body, contentType);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(NOT_JSON);
  });

  test.each(['null', '[]', '"7/70"', '42'])('a JSON body that is not an object (%s) is a 400 invalid_request', async (body) => {
    const res = await post(body, 'application/json');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_request' } });
  });

  test('a body over 1 MiB is a 413 payload_too_large', async () => {
    const res = await post(JSON.stringify({ sites: Array.from({ length: 10_000 }, (_, i) => `${'9'.repeat(100)}/${i}`) }), 'application/json');
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: { code: 'payload_too_large', message: 'request body is over the 1048576-byte limit' } });
  });

  test('credentials are checked before the body is parsed', async () => {
    const res = await call('/api/resync', { method: 'POST', body: '{"sites": [', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(UNAUTHORIZED);
  });
});
