import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { createHarness, seedCrm, type Harness } from './support/harness.js';
import { basic, CREDENTIALS, startHttp } from './support/http.js';

/**
 * Inputs of the HTTP API that would reach PostgreSQL unchecked (docs/CHEKT-AUTH-AND-IDS.md#http-api-inputs): text PostgreSQL cannot
 * store (NUL, 22021), lone UTF-16 surrogates, dates outside PostgreSQL's range (22008), and error bodies
 * that grow with the request. Each must be a 400 naming the field, never a 500.
 */

let h: Harness;
let server: FastifyInstance;
let base: string;
const auth = basic(CREDENTIALS.admin.user, CREDENTIALS.admin.password);
const authed = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { authorization: auth, 'content-type': 'application/json', ...(init.headers ?? {}) } });
const resync = (body: string) => authed('/api/resync', { method: 'POST', body });

beforeAll(async () => {
  h = await createHarness('httpin');
  await seedCrm(h, [{ id: 's1', dealerId: '7', siteId: '70' }], []);
  ({ server, base } = await startHttp(h.app));
}, 60_000);

afterAll(async () => {
  await server?.close();
  await h?.close();
});

async function expect400(res: Response, field: string, message: RegExp): Promise<void> {
  const body = (await res.json()) as { error: { code: string; message: string; field?: string } };
  expect({ status: res.status, code: body.error.code, field: body.error.field }).toEqual({ status: 400, code: 'invalid_request', field });
  expect(body.error.message).toMatch(message);
}

describe('POST /api/resync: text PostgreSQL cannot store', () => {
  test.each([
    ['a NUL in the dealer id', String.raw`{"sites":["7\u0000/70"]}`],
    ['a NUL in the site id', String.raw`{"sites":["7/7\u00000"]}`],
    ['a lone high surrogate', String.raw`{"sites":["7/70\ud800"]}`],
    ['a lone low surrogate', String.raw`{"sites":["\udc007/70"]}`],
  ])('%s is a 400 naming sites, not a 500', async (_name, body) => {
    await expect400(await resync(body), 'sites', /NUL|surrogate/);
    expect(await h.app.db.syncRun.count()).toBe(0);
  });

  test('a well-formed pair (an emoji) is ordinary text: 400 only because no such site exists', async () => {
    await expect400(await resync(JSON.stringify({ sites: ['7/😀'] })), 'sites', /7\/😀: no CRM site/);
  });
});

describe('POST /api/resync: 10,000 unknown sites', () => {
  test('the error lists the first sites and says how many more, in a small body', async () => {
    const sites = Array.from({ length: 10_000 }, (_, i) => `900/${i}`);
    const res = await resync(JSON.stringify({ sites }));
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text.length).toBeLessThan(4_096);
    const body = JSON.parse(text) as { error: { message: string; field: string } };
    expect(body.error.field).toBe('sites');
    expect(body.error.message).toMatch(/^900\/0: no CRM site/);
    expect(body.error.message).toMatch(/; and 9990 more of the 10000 requested sites that cannot be synced$/);
    expect(body.error.message.split('; ')).toHaveLength(11);
  });
});

describe('GET /api/runs?before=: dates PostgreSQL cannot store', () => {
  test.each([['0000-01-01'], ['0000-12-31T23:59:59Z'], ['0001-01-01T00:00:00+01:00'], ['9999-12-31T23:59:59-01:00'], ['10000-01-01']])('before=%s is a 400 naming before', async (before) => {
    await expect400(await authed(`/api/runs?before=${encodeURIComponent(before)}`), 'before', /before/);
  });

  test.each([['0001-01-01'], ['9999-12-31T23:59:59Z'], ['2026-12-01T10:00:00+02:00']])('before=%s is in range: 200', async (before) => {
    const res = await authed(`/api/runs?before=${encodeURIComponent(before)}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [], nextCursor: null });
  });

  test('a NUL in before is a 400, not a 500', async () => {
    await expect400(await authed('/api/runs?before=2026-01-01%00'), 'before', /before/);
  });
});

describe('GET /api/sites/:dealerId/:siteId: text PostgreSQL cannot store', () => {
  test('a NUL is a 404 like any unknown site', async () => {
    const res = await authed('/api/sites/7%00/70');
    expect(res.status).toBe(404);
  });

  test('invalid UTF-8 (it cannot encode a lone surrogate) is a 400 malformed URL', async () => {
    const res = await authed('/api/sites/7/%ED%A0%80');
    expect(res.status).toBe(400);
  });
});
