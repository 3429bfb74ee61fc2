/**
 * The CHeKT client against the project's sandbox over real HTTP: the five endpoints, token caching and
 * renewal, 401/429 handling, error mapping, trace ids, and private_key_jwt.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createChektClient, type ChektCallInfo, type ChektClient } from '../../src/chekt/client.js';
import {
  ChektAuthError,
  ChektBadRequestError,
  ChektConflictError,
  ChektNetworkError,
  ChektNotFoundError,
  ChektRateLimitedError,
  ChektResponseError,
  ChektServerError,
  ChektTimeoutError,
} from '../../src/chekt/errors/index.js';
import { createUnlimitedRateLimiter, type RateLimiter } from '../../src/chekt/rateLimiter.js';
import { TokenProvider } from '../../src/chekt/token.js';
import type { SiteRef } from '../../src/domain/site.js';
import type { ChektAuthConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';

const site: SiteRef = { dealerId: '12345', siteId: '1' };
const CLIENT_ID = 'sync-client';
const SECRET = 'sync-secret-value';
const TOKEN_ROUTE = 'POST /oauth/token';

let sandbox: Sandbox;
let logLines: string[];

beforeAll(async () => {
  sandbox = await startSandbox({ clients: [{ clientId: CLIENT_ID, clientSecret: SECRET }], sites: [site] });
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  sandbox.reset();
  sandbox.setFaults({ latencyMs: 0, errorRate: 0, dropAfterCommitRate: 0, rejectExternalContactIds: [] });
  sandbox.setRateLimit(0);
  logLines = [];
});

interface Harness {
  client: ChektClient;
  tokens: TokenProvider;
  rateLimiter: RateLimiter;
  calls: ChektCallInfo[];
}

function harness(opts: { auth?: ChektAuthConfig; timeoutMs?: number; maxRateLimitedRetries?: number; maxRetryAfterMs?: number } = {}): Harness {
  const logger = createLogger('debug', { write: (s: string) => void logLines.push(s) });
  const tokens = new TokenProvider({
    tokenUrl: `${sandbox.url}/oauth/token`,
    auth: opts.auth ?? { mode: 'client_secret', clientId: CLIENT_ID, clientSecret: SECRET },
    timeoutMs: 5000,
    refreshSkewSeconds: 60,
    logger,
  });
  const rateLimiter = createUnlimitedRateLimiter();
  const calls: ChektCallInfo[] = [];
  const client = createChektClient({
    apiUrl: `${sandbox.url}/`,
    tokens,
    rateLimiter,
    timeoutMs: opts.timeoutMs ?? 5000,
    maxRetryAfterMs: opts.maxRetryAfterMs ?? 3000,
    maxRateLimitedRetries: opts.maxRateLimitedRetries ?? 5,
    logger,
    onCall: (i) => calls.push(i),
  });
  return { client, tokens, rateLimiter, calls };
}

const john = { external_contact_id: 'crm-1', first_name: 'John', last_name: 'Doe', phone_number: '1234567890', email: 'john.doe@example.com' };
const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('ChektClient against the sandbox', () => {
  it('round-trips all five endpoints', async () => {
    const { client } = harness();
    const created = await client.createContact(site, john);
    expect(created).toMatchObject({ externalContactId: 'crm-1', firstName: 'John', lastName: 'Doe', phoneNumber: '1234567890', email: 'john.doe@example.com' });
    expect(created.contactId).toMatch(/^\d+$/);
    expect(created.createdAt).toEqual(expect.any(String));

    expect(await client.listContacts(site)).toEqual([created]);
    expect(await client.getContact(site, created.contactId)).toEqual(created);

    const updated = await client.updateContact(site, created.contactId, { first_name: 'Jane', email: 'jane@example.com' });
    expect(updated).toMatchObject({ contactId: created.contactId, firstName: 'Jane', lastName: 'Doe', email: 'jane@example.com' });
    expect(sandbox.contacts(site.dealerId, site.siteId)[0]).toMatchObject({ first_name: 'Jane' });

    await expect(client.deleteContact(site, created.contactId)).resolves.toBeUndefined();
    expect(await client.listContacts(site)).toEqual([]);
    expect(sandbox.stats().byStatus).toMatchObject({ '200': 5, '201': 1, '204': 1 });
  });

  it('encodes path ids', async () => {
    const { client } = harness();
    await errorOf(client.getContact(site, '../1?x=/y'));
    const paths = sandbox
      .requests()
      .map((r) => r.path)
      .filter((p) => p.startsWith('/partner'));
    expect(paths).toEqual(['/partner/v1/dealers/12345/sites/1/contacts/..%2F1%3Fx%3D%2Fy']);
  });

  it('caches the token: N calls → 1 token request', async () => {
    const { client, tokens } = harness();
    for (let i = 0; i < 5; i++) await client.listContacts(site);
    expect(sandbox.stats().tokens).toBe(1);
    expect(sandbox.stats().byRoute[TOKEN_ROUTE]).toBe(1);
    expect(tokens.renewals).toBe(1);
  });

  it('concurrent first calls share one token request', async () => {
    const { client } = harness();
    await Promise.all(Array.from({ length: 10 }, () => client.listContacts(site)));
    expect(sandbox.stats().byRoute[TOKEN_ROUTE]).toBe(1);
  });

  it('expired token: one renewal, one retry, success', async () => {
    const { client, tokens } = harness();
    await client.listContacts(site);
    sandbox.expireAllTokens();
    sandbox.resetStats();
    await expect(client.listContacts(site)).resolves.toEqual([]);
    expect(sandbox.stats().byStatus).toEqual({ '401': 1, '200': 2 }); // 401, token, retry
    expect(sandbox.stats().tokens).toBe(1);
    expect(tokens.renewals).toBe(2);
    expect(client.stats().authRetries).toBe(1);
  });

  it('N concurrent calls meeting an expired token cause one renewal', async () => {
    const { client } = harness();
    await client.listContacts(site);
    sandbox.expireAllTokens();
    sandbox.resetStats();
    await Promise.all(Array.from({ length: 8 }, () => client.listContacts(site)));
    expect(sandbox.stats().tokens).toBe(1);
    expect(sandbox.stats().byStatus['401']).toBe(8);
  });

  it('401 twice → ChektAuthError, not retryable', async () => {
    const { rateLimiter } = harness();
    let renewCalls = 0;
    const client = createChektClient({
      apiUrl: sandbox.url,
      tokens: { getToken: async () => 'revoked-1', renew: async () => (renewCalls++, 'revoked-2') },
      rateLimiter,
      timeoutMs: 5000,
      maxRetryAfterMs: 1000,
      maxRateLimitedRetries: 1,
      logger: createLogger('silent'),
    });
    const err = await errorOf(client.listContacts(site));
    expect(err).toBeInstanceOf(ChektAuthError);
    expect(err).toMatchObject({ status: 401, code: 'invalid_api_key', retryable: false, endpoint: 'GET contacts' });
    expect(renewCalls).toBe(1);
    expect(sandbox.stats().byStatus).toEqual({ '401': 2 });
  });

  it('429: waits Retry-After, pauses the limiter, and succeeds', async () => {
    const { client, rateLimiter } = harness();
    await client.listContacts(site); // token cached before the limit (the sandbox limits the token route too)
    sandbox.setRateLimit(60, 1);
    sandbox.resetStats();
    for (let i = 0; i < 3; i++) await client.listContacts(site);
    expect(sandbox.stats().rateLimited).toBeGreaterThan(0);
    expect(sandbox.stats().byStatus['200']).toBe(3);
    expect(client.stats().rateLimitedRetries).toBe(sandbox.stats().rateLimited);
    expect(rateLimiter.stats?.().pauses).toBeGreaterThan(0);
  }, 20_000);

  it('429 beyond maxRateLimitedRetries → ChektRateLimitedError with retryAfterMs', async () => {
    const { client } = harness({ maxRateLimitedRetries: 0 });
    await client.listContacts(site);
    sandbox.setRateLimit(1, 1);
    await client.listContacts(site); // takes the only token in the bucket
    const err = await errorOf(client.listContacts(site));
    expect(err).toBeInstanceOf(ChektRateLimitedError);
    expect(err).toMatchObject({ status: 429, retryable: true, code: 'rate_limited' });
    expect((err as ChektRateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(1000);
  });

  it('404 → ChektNotFoundError (unknown contact and unknown site)', async () => {
    const { client } = harness();
    const err = await errorOf(client.getContact(site, '999'));
    expect(err).toBeInstanceOf(ChektNotFoundError);
    expect(err).toMatchObject({ status: 404, retryable: false, endpoint: 'GET contacts/{id}' });
    expect(await errorOf(client.deleteContact(site, '999'))).toBeInstanceOf(ChektNotFoundError);
    expect(await errorOf(client.listContacts({ dealerId: '12345', siteId: 'nope' }))).toBeInstanceOf(ChektNotFoundError);
  });

  it('409 → ChektConflictError on a duplicate external_contact_id', async () => {
    const { client } = harness();
    await client.createContact(site, john);
    const err = await errorOf(client.createContact(site, john));
    expect(err).toBeInstanceOf(ChektConflictError);
    expect(err).toMatchObject({ status: 409, code: 'duplicate_external_contact_id', field: 'external_contact_id', retryable: false });
  });

  it('400 → ChektBadRequestError with field', async () => {
    const { client } = harness();
    sandbox.setFaults({ rejectExternalContactIds: ['crm-1'] });
    const err = await errorOf(client.createContact(site, john));
    expect(err).toBeInstanceOf(ChektBadRequestError);
    expect(err).toMatchObject({ status: 400, field: 'external_contact_id', retryable: false, endpoint: 'POST contacts' });
    expect((err as Error).message).not.toContain('john.doe@example.com');
  });

  it('errorRate=1 → ChektServerError, retryable', async () => {
    const { client } = harness();
    sandbox.setFaults({ errorRate: 1 });
    const err = await errorOf(client.listContacts(site));
    expect(err).toBeInstanceOf(ChektServerError);
    expect(err).toMatchObject({ status: 503, retryable: true, code: 'service_unavailable' });
    expect((err as ChektServerError).traceId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('dropAfterCommitRate=1 → ChektNetworkError although the write is stored', async () => {
    const { client } = harness();
    sandbox.setFaults({ dropAfterCommitRate: 1 });
    const err = await errorOf(client.createContact(site, john));
    expect(err).toBeInstanceOf(ChektNetworkError);
    expect(err).toMatchObject({ retryable: true, endpoint: 'POST contacts' });
    expect(sandbox.contacts(site.dealerId, site.siteId)).toHaveLength(1);
  });

  it('latency beyond timeoutMs → ChektTimeoutError, retryable', async () => {
    const { client } = harness({ timeoutMs: 200 });
    await client.listContacts(site);
    sandbox.setFaults({ latencyMs: 1000 });
    const err = await errorOf(client.listContacts(site));
    expect(err).toBeInstanceOf(ChektTimeoutError);
    expect(err).toMatchObject({ retryable: true, status: undefined });
  });

  it('sends a bearer token and a fresh UUID trace id on every request, and reports each call', async () => {
    const { client, calls } = harness();
    const c = await client.createContact(site, john);
    await client.listContacts(site);
    sandbox.expireAllTokens();
    await client.updateContact(site, c.contactId, { last_name: 'Roe' });
    await client.deleteContact(site, c.contactId);
    const partner = sandbox.requests().filter((r) => r.path.startsWith('/partner'));
    expect(partner).toHaveLength(5); // includes the 401 and its retry
    for (const r of partner) expect(r).toMatchObject({ hasBearer: true, traceIdIsUuid: true });
    expect(new Set(partner.map((r) => r.traceId)).size).toBe(partner.length);
    expect(calls.map((i) => i.traceId)).toEqual(partner.map((r) => r.traceId));
    expect(calls.map((i) => [i.endpoint, i.status])).toEqual([
      ['POST contacts', 201],
      ['GET contacts', 200],
      ['PUT contacts/{id}', 401],
      ['PUT contacts/{id}', 200],
      ['DELETE contacts/{id}', 204],
    ]);
  });

  it('never logs the token or contact data', async () => {
    const { client } = harness();
    const c = await client.createContact(site, john);
    await client.getContact(site, c.contactId);
    sandbox.setFaults({ rejectExternalContactIds: ['crm-2'] });
    await errorOf(client.createContact(site, { ...john, external_contact_id: 'crm-2' }));
    const out = logLines.join('\n');
    expect(out).toContain('"traceId"');
    expect(out).toContain('chekt call failed');
    for (const secret of [SECRET, 'sbx_', 'John', 'Doe', '1234567890', 'john.doe@example.com', 'Bearer']) {
      expect(out).not.toContain(secret);
    }
  });

  it('works with private_key_jwt against a client registered with its public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwtSandbox = await startSandbox({
      clients: [{ clientId: 'jwt-client', publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
      sites: [site],
    });
    try {
      const logger = createLogger('silent');
      const tokens = new TokenProvider({
        tokenUrl: `${jwtSandbox.url}/oauth/token`,
        auth: {
          mode: 'private_key_jwt',
          clientId: 'jwt-client',
          privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
          keyId: 'kid-1',
          audience: 'https://adc-m2m.chektdev.com/',
        },
        timeoutMs: 5000,
        refreshSkewSeconds: 60,
        logger,
      });
      const client = createChektClient({
        apiUrl: jwtSandbox.url,
        tokens,
        rateLimiter: createUnlimitedRateLimiter(),
        timeoutMs: 5000,
        maxRetryAfterMs: 1000,
        maxRateLimitedRetries: 1,
        logger,
      });
      await client.createContact(site, john);
      expect(await client.listContacts(site)).toHaveLength(1);
      jwtSandbox.expireAllTokens();
      expect(await client.listContacts(site)).toHaveLength(1); // second assertion has a fresh jti
      expect(jwtSandbox.stats().tokens).toBe(2);
    } finally {
      await jwtSandbox.close();
    }
  });
});

describe('ChektClient against odd responses', () => {
  let server: Server;
  let url: string;
  let reply: { status: number; body: string; headers?: Record<string, string> };

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(reply.status, reply.headers ?? { 'content-type': 'application/json' }).end(reply.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const client = (extra: Partial<Parameters<typeof createChektClient>[0]> = {}) =>
    createChektClient({
      apiUrl: url,
      tokens: { getToken: async () => 't', renew: async () => 't2' },
      rateLimiter: createUnlimitedRateLimiter(),
      timeoutMs: 2000,
      maxRetryAfterMs: 50,
      maxRateLimitedRetries: 2,
      logger: createLogger('silent'),
      ...extra,
    });

  it('an error body echoing the access token keeps none of it (scrub.ts)', async () => {
    const echoing = createChektClient({
      apiUrl: url,
      tokens: { getToken: async () => 'tok_live_0123456789', renew: async () => 'tok_live_0123456789' },
      rateLimiter: createUnlimitedRateLimiter(),
      timeoutMs: 2000,
      maxRetryAfterMs: 50,
      maxRateLimitedRetries: 0,
      logger: createLogger('silent'),
    });
    reply = { status: 403, body: JSON.stringify({ error: { code: 'forbidden', message: 'token tok_live_0123456789 lacks create:site_contacts (sent Authorization: Bearer tok_live_0123456789)' } }) };
    const err = (await errorOf(echoing.listContacts(site))) as Error;
    expect(err.message).toMatch(/forbidden, status 403, code forbidden - token \[redacted\] lacks create:site_contacts \(sent Authorization: Bearer \[redacted\]\)/);
    expect(err.message).not.toContain('tok_live');
  });

  it('a 200 body failing the schema → ChektResponseError, not retryable', async () => {
    // (An item without a contact_id is kept, flagged unaddressable: schemas.ts. A field of the wrong type fails.)
    reply = { status: 200, body: JSON.stringify([{ contact_id: 1, first_name: { x: 1 } }]) };
    const err = await errorOf(client().listContacts(site));
    expect(err).toBeInstanceOf(ChektResponseError);
    expect(err).toMatchObject({ status: 200, retryable: false, code: 'invalid_response' });
    reply = { status: 200, body: 'not json' };
    expect(await errorOf(client().getContact(site, '1'))).toBeInstanceOf(ChektResponseError);
  });

  it('a PUT answered 204 or without the contact counts as applied, echoing what was sent', async () => {
    const body = { first_name: 'Ann', last_name: 'Lee', phone_number: '+12015550123', email: '' };
    for (const r of [
      { status: 204, body: '' },
      { status: 200, body: '{"success":true}' },
    ]) {
      reply = r;
      expect(await client().updateContact(site, '9', body)).toEqual({
        contactId: '9',
        externalContactId: null,
        firstName: 'Ann',
        lastName: 'Lee',
        phoneNumber: '+12015550123',
        email: null,
        createdAt: null,
      });
    }
  });

  it('accepts the {data:{contacts:[...]}} list shape and 200 on create/delete', async () => {
    const c = { contact_id: 7, external_contact_id: 'e', first_name: 'a', last_name: 'b' };
    reply = { status: 200, body: JSON.stringify({ data: { contacts: [c] } }) };
    expect(await client().listContacts(site)).toHaveLength(1);
    reply = { status: 200, body: JSON.stringify(c) };
    expect((await client().createContact(site, john)).contactId).toBe('7');
    reply = { status: 200, body: '' };
    await expect(client().deleteContact(site, '7')).resolves.toBeUndefined();
  });

  it('a 429 past the cap pauses every caller for the whole Retry-After; a pause past the cap found before sending sends nothing', async () => {
    const c = client();
    reply = { status: 429, body: '', headers: { 'retry-after': '120' } };
    expect(await errorOf(c.listContacts(site))).toMatchObject({ name: 'ChektRateLimitedError', retryAfterMs: 120_000 });
    reply = { status: 200, body: '[]' };
    // The next call finds the 120 s pause: it throws at once (code paused, the time left) without a request.
    const paused = await errorOf(c.listContacts(site));
    expect(paused).toMatchObject({ name: 'ChektRateLimitedError', code: 'paused', retryable: true });
    expect((paused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(119_000);
    expect(c.stats().requests).toBe(1);
  });

  it('after the signal aborts, and when beforeSend throws, no request is sent', async () => {
    const shutdown = new AbortController();
    const refuse = new Error('fenced');
    let guarded = 0;
    const c = client({
      maxRetryAfterMs: 5000,
      signal: shutdown.signal,
      beforeSend: async (r) => {
        if (r.method === 'DELETE') throw refuse;
        guarded += 1;
      },
    });
    reply = { status: 204, body: '' };
    expect(await errorOf(c.deleteContact(site, '1'))).toBe(refuse);
    expect(c.stats().requests).toBe(0);
    // A 429 wait within the cap (2 s) ends as soon as the process stops, with nothing sent after it.
    reply = { status: 429, body: '', headers: { 'retry-after': '2' } };
    const pending = errorOf(c.listContacts(site));
    await new Promise((r) => setTimeout(r, 200));
    const stopped = Date.now();
    shutdown.abort();
    expect(await pending).toMatchObject({ name: 'ChektCancelledError', retryable: true });
    expect(Date.now() - stopped).toBeLessThan(500);
    expect(await errorOf(c.listContacts(site))).toMatchObject({ name: 'ChektCancelledError' });
    expect(c.stats().requests).toBe(1);
    expect(guarded).toBe(1);
  });

  it('internal "<status>|<message>" text and 429 caps are handled', async () => {
    reply = { status: 500, body: '500|db down', headers: { 'content-type': 'text/plain' } };
    const err = await errorOf(client().listContacts(site));
    expect(err).toBeInstanceOf(ChektServerError);
    expect((err as Error).message).toContain('db down');
    reply = { status: 429, body: '', headers: { 'retry-after': '3600' } };
    const c = client();
    const started = Date.now();
    const limited = await errorOf(c.listContacts(site));
    expect(limited).toMatchObject({ name: 'ChektRateLimitedError', retryAfterMs: 3_600_000 });
    expect(Date.now() - started).toBeLessThan(2000);
    // Past the cap (maxRetryAfterMs, 50 ms) nothing is waited out in place: the caller's queue takes the wait
    // (docs/RETRIES.md "429").
    expect(c.stats().rateLimitedRetries).toBe(0);
    expect(c.stats().requests).toBe(1);
  });
});
