import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { runSync } from '../../src/cli/runSync.js';
import { createHarness, REDIS_URL, seedCrm, type Harness, type SeedContact } from './support/harness.js';
import { basic, CREDENTIALS, listRoutes, startHttp, type RouteEntry, type RunningServer } from './support/http.js';
import { start, waitExit } from './support/spawn.js';

/**
 * Security checks as tests (docs/ARCHITECTURE.md#logs, docs/CONSOLE.md#roles): no secret or personal data in logs or Redis after a full sync (both CHeKT
 * auth modes), job data holds ids only, every /api, /admin and /metrics route is behind auth with a read-only
 * viewer and CSRF checks on writes, request bodies are validated, and a short admin password stops `npm start`.
 */

const SITE = { id: 'sec-site', dealerId: '31', siteId: '7' };
/** Distinctive personal data: any of these strings in a log line or a Redis value is a leak. */
const CONTACTS: SeedContact[] = [
  { id: 'sec-1', siteId: SITE.id, firstName: 'Wilhelmina', lastName: 'Oyelaran-Quist', phoneNumber: '(415) 555-0142', email: 'Wilhelmina.Quist@Example.org' },
  { id: 'sec-2', siteId: SITE.id, firstName: 'Thaddeus', lastName: 'Brannigan-Okafor', phoneNumber: '+44 20 7946 0958', email: 'thaddeus@brannigan.example' },
  // Rejected by CHeKT (a 400 naming the field): the failure path, its error and BullMQ's failedReason.
  { id: 'sec-3', siteId: SITE.id, firstName: 'Ermengarde', lastName: 'Vasquez-Lindqvist', phoneNumber: '+82 2-312-3456', email: 'ermengarde@lindqvist.example' },
  // Invalid values: dropped with a warning, which must name the field but not repeat the value.
  { id: 'sec-4', siteId: SITE.id, firstName: 'Octavian', lastName: 'Pemberton-Achebe', phoneNumber: 'call 650-253-0199 evenings', email: 'octavian@@pemberton' },
  // Skipped (empty first name).
  { id: 'sec-5', siteId: SITE.id, firstName: '  ', lastName: 'Zebulon-Marchetti', phoneNumber: '+1 650 253 0000', email: 'zebulon@marchetti.example' },
];
const EDIT = { phoneNumber: '415.555.0177', email: 'w.oyelaran-quist@example.org' };
const PERSONAL = [
  ...CONTACTS.flatMap((c) => [c.firstName.trim(), c.lastName]).filter(Boolean),
  // Phones as written in the CRM, in E.164 and as bare national digits.
  '(415) 555-0142',
  '555-0142',
  '+14155550142',
  '4155550142',
  '+44 20 7946 0958',
  '7946 0958',
  '+442079460958',
  '2079460958',
  '+82 2-312-3456',
  '312-3456',
  '+8223123456',
  '23123456',
  '650-253-0199',
  '6502530199',
  '+1 650 253 0000',
  '+16502530000',
  '6502530000',
  '415.555.0177',
  '+14155550177',
  '4155550177',
  ...CONTACTS.flatMap((c) => [c.email!, c.email!.toLowerCase()]),
  EDIT.email,
];
/** Keys an operation job's data may have: ids and the plan's kind and reason, nothing personal. */
const JOB_DATA_KEYS = ['runId', 'kind', 'reason', 'dealerId', 'siteId', 'crmSiteId', 'externalContactId', 'chektContactId'];

/** Every key under `prefix:` with its type and whole value, one JSON line per key. */
async function dumpRedis(prefix: string): Promise<string> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    const lines: string[] = [];
    for (const key of keys.sort()) {
      const type = await redis.type(key);
      const value =
        type === 'hash'
          ? await redis.hgetall(key)
          : type === 'list'
            ? await redis.lrange(key, 0, -1)
            : type === 'zset'
              ? await redis.zrange(key, 0, -1, 'WITHSCORES')
              : type === 'set'
                ? await redis.smembers(key)
                : type === 'stream'
                  ? await redis.xrange(key, '-', '+')
                  : type === 'string'
                    ? await redis.get(key)
                    : `unread type ${type}`;
      lines.push(JSON.stringify({ key, type, value }));
    }
    return lines.join('\n');
  } finally {
    await redis.quit();
  }
}

/** Seeds the CRM, syncs (create, one rejected), edits and soft-deletes, syncs again. */
async function fullSync(h: Harness): Promise<void> {
  await seedCrm(h, [SITE], CONTACTS);
  const sync = () => runSync(h.app, { trigger: 'cli', dryRun: false, sites: [], timeoutMs: 60_000 });
  h.sandbox.setFaults({ rejectExternalContactIds: ['sec-3'] });
  const first = await sync();
  h.sandbox.setFaults({ rejectExternalContactIds: [] });
  expect(first.counts).toMatchObject({ create: { succeeded: 3, failed: 1 } });
  await h.app.db.contact.updateMany({ where: { id: 'sec-1' }, data: { ...EDIT, updatedAt: new Date() } });
  await h.app.db.contact.updateMany({ where: { id: 'sec-2' }, data: { deletedAt: new Date() } });
  const second = await sync();
  expect(second.counts).toMatchObject({ update: { succeeded: 1 }, delete: { succeeded: 1 } });
}

/** Asserts that none of `needles` occurs in `haystack`, reporting the ones that do. */
function expectNone(haystack: string, needles: readonly string[]): void {
  expect(needles.filter((n) => haystack.includes(n))).toEqual([]);
}

describe('client_secret mode: a full sync, then the HTTP surface', () => {
  let h: Harness;
  let http: RunningServer;
  let routes: RouteEntry[];
  const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => fetch(`${http.base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const admin = basic(CREDENTIALS.admin.user, CREDENTIALS.admin.password);
  const viewer = basic(CREDENTIALS.viewer.user, CREDENTIALS.viewer.password);
  /** A concrete URL for a route pattern: sample values for its parameters and for a trailing `*`. */
  const SAMPLES: Record<string, string> = {
    queueName: 'contact-operations',
    queueStatus: 'failed',
    jobId: 'no-such-job',
    schedulerId: 'no-such-scheduler',
    id: '00000000-0000-4000-8000-000000000000',
    dealerId: SITE.dealerId,
    siteId: SITE.siteId,
  };
  const concrete = (path: string) => path.replace(/:(\w+)/g, (_, n: string) => SAMPLES[n] ?? 'x').replace(/\*$/, 'x');
  const isWrite = (r: RouteEntry) => r.method !== 'GET' && r.method !== 'HEAD';
  const protectedRoutes = () => routes.filter((r) => /^\/(api|admin|metrics|console)(\/|$)/.test(r.path));

  beforeAll(async () => {
    h = await createHarness('security');
    await fullSync(h);
    http = await startHttp(h.app);
    routes = listRoutes(http.server);
  }, 120_000);

  afterAll(async () => {
    await http?.server.close();
    await h?.close();
  });

  test('the route list covers the API, the dashboard, its write actions and /metrics', () => {
    const names = protectedRoutes().map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /api/resync',
        'GET /api/runs/:id',
        'GET /admin/queues',
        'GET /admin/queues/api/queues',
        'PUT /admin/queues/api/queues/:queueName/retry/:queueStatus',
        'PUT /admin/queues/api/queues/:queueName/clean/:queueStatus',
        'GET /metrics',
      ]),
    );
    expect(protectedRoutes().filter(isWrite).length).toBeGreaterThanOrEqual(10);
  });

  test('every /api, /admin and /metrics route answers 401 without credentials and with mixed-up ones', async () => {
    const mixed = [basic(CREDENTIALS.viewer.user, CREDENTIALS.admin.password), basic(CREDENTIALS.admin.user, CREDENTIALS.viewer.password)];
    const wrong: string[] = [];
    for (const r of protectedRoutes()) {
      const path = concrete(r.path);
      for (const headers of [{}, { authorization: mixed[0]! }, { authorization: mixed[1]! }]) {
        const res = await call(r.method, path, headers);
        if (res.status !== 401 || !res.headers.get('www-authenticate')?.startsWith('Basic')) wrong.push(`${r.method} ${path} -> ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test('the viewer reads every GET route, and every write action answers it 403 forbidden', async () => {
    const wrong: string[] = [];
    for (const r of protectedRoutes()) {
      const path = concrete(r.path);
      const res = await call(r.method, path, { authorization: viewer, 'content-type': 'application/json' }, isWrite(r) ? '{}' : undefined);
      if (!isWrite(r)) {
        if (res.status === 401 || res.status === 403) wrong.push(`${r.method} ${path} -> ${res.status}`);
        continue;
      }
      const body = (await res.json()) as { error?: { code?: string } };
      if (res.status !== 403 || body.error?.code !== 'forbidden') wrong.push(`${r.method} ${path} -> ${res.status} ${JSON.stringify(body)}`);
    }
    expect(wrong).toEqual([]);
  }, 60_000);

  test('the viewer cannot resync or retry; the operator can', async () => {
    expect((await call('POST', '/api/resync', { authorization: viewer, 'content-type': 'application/json' }, '{"dryRun":true}')).status).toBe(403);
    const retry = '/admin/queues/api/queues/contact-operations/retry/failed';
    expect((await call('PUT', retry, { authorization: viewer })).status).toBe(403);
    expect((await call('PUT', retry, { authorization: admin })).status).toBe(200);
  });

  test('a cross-site write is refused 403 csrf for every write route, before the viewer rule; same-origin passes', async () => {
    const crossSite: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: `http://localhost:${new URL(http.base).port}` },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: http.base, 'sec-fetch-site': 'cross-site' },
    ];
    const wrong: string[] = [];
    for (const r of protectedRoutes().filter(isWrite)) {
      const path = concrete(r.path);
      for (const who of [admin, viewer]) {
        for (const headers of crossSite) {
          const res = await call(r.method, path, { authorization: who, ...headers });
          const body = (await res.json()) as { error?: { code?: string } };
          if (res.status !== 403 || body.error?.code !== 'csrf') wrong.push(`${r.method} ${path} ${JSON.stringify(headers)} -> ${res.status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // The browser's own requests (same origin, or typed by the user) and scripts without these headers pass.
    const retry = '/admin/queues/api/queues/contact-operations/retry/failed';
    for (const headers of [{ origin: http.base }, { 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, {}]) {
      expect([headers, (await call('PUT', retry, { authorization: admin, ...headers })).status]).toEqual([headers, 200]);
    }
    // Reads are never refused for their origin (a cross-site GET cannot change anything).
    expect((await call('GET', '/api/runs/00000000-0000-4000-8000-000000000000', { authorization: viewer, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).status).toBe(404);
  }, 60_000);

  test.each([
    [{ sites: 5 }, 'sites'],
    [{ dryRun: 'yes' }, 'dryRun'],
    [{ sites: ['31/7'], extra: true }, undefined],
  ])('POST /api/resync %j is a 400 naming the field', async (body, field) => {
    const res = await call('POST', '/api/resync', { authorization: admin, 'content-type': 'application/json' }, JSON.stringify(body));
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: string; field?: string } };
    expect(json.error.code).toBe('invalid_request');
    if (field) expect(json.error.field).toBe(field);
  });

  test('operation jobs in Redis hold ids only', async () => {
    const jobs = await h.app.operationsQueue.getJobs(['completed', 'failed', 'waiting', 'delayed', 'active']);
    // One job id per contact and site: sec-1 to sec-4 (sec-5 is skipped at planning).
    expect(jobs.length).toBeGreaterThanOrEqual(4);
    for (const job of jobs) {
      expect(Object.keys(job.data).filter((k) => !JOB_DATA_KEYS.includes(k))).toEqual([]);
      expectNone(JSON.stringify([job.data, job.returnvalue, job.failedReason, job.stacktrace]), PERSONAL);
    }
  });

  test('no key or value under the queue prefix holds a secret, the access token or personal data', async () => {
    const dump = await dumpRedis(h.prefix);
    const token = await h.app.tokens.getToken();
    expect(token.length).toBeGreaterThan(10);
    expect(dump).toContain('sec-1'); // the dump is real: it holds the jobs
    expectNone(dump, [...PERSONAL, 'sandbox-secret', token, 'Bearer ']);
  });

  test('the logs of the sync and of every request above hold no secret, token or personal data', async () => {
    const raw = h.rawLogs();
    expect(raw.length).toBeGreaterThan(2000);
    expect(h.logs.filter((l) => l.msg === 'operation done').length).toBeGreaterThanOrEqual(4);
    const token = await h.app.tokens.getToken();
    expectNone(raw, [...PERSONAL, 'sandbox-secret', token, 'Bearer ', CREDENTIALS.admin.password, CREDENTIALS.viewer.password]);
  });
});

describe('private_key_jwt mode: a full sync', () => {
  let h: Harness;
  let dir: string;
  let pemBody: string[];

  beforeAll(async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    pemBody = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
    dir = mkdtempSync(join(tmpdir(), 'cks-security-'));
    writeFileSync(join(dir, 'key.pem'), pem, { mode: 0o600 });
    h = await createHarness('security_jwt', {
      sandbox: { clients: [{ clientId: 'jwt-client', publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }] },
      env: { CHEKT_CLIENT_ID: 'jwt-client', CHEKT_CLIENT_SECRET: '', CHEKT_PRIVATE_KEY_FILE: join(dir, 'key.pem'), CHEKT_KEY_ID: 'kid-1', CHEKT_AUDIENCE: 'https://auth.example/' },
    });
    expect(h.config.chekt.auth.mode).toBe('private_key_jwt');
    await fullSync(h);
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('neither the logs nor Redis hold the private key, a client assertion, the access token or personal data', async () => {
    expect(pemBody.length).toBeGreaterThan(20);
    const token = await h.app.tokens.getToken();
    // A JWT (the client assertion) starts with base64url '{"' = "eyJ".
    const needles = [...PERSONAL, ...pemBody, token, 'eyJ', 'Bearer '];
    expectNone(h.rawLogs(), needles);
    expectNone(await dumpRedis(h.prefix), needles);
  });
});

describe('npm start', () => {
  test('refuses to start with an ADMIN_PASSWORD under 12 characters: exit 2, naming ADMIN_PASSWORD', async () => {
    const env = { CHEKT_CLIENT_ID: 'c', CHEKT_CLIENT_SECRET: 's', ADMIN_USER: 'ops', ADMIN_PASSWORD: 'short', LOG_LEVEL: 'silent' };
    const r = await waitExit(start('start', [], env, { npm: true }), 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ADMIN_PASSWORD: must be at least 12 characters/);
    expect(r.stderr + r.stdout).not.toContain('short');
  }, 40_000);
});
