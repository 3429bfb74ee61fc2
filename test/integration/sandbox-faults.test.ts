import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { CONTACTS_ROUTE, DEALER, ISO_MS, JOHN, REQUEST_ID, SITE, TRACE, call, contactsUrl, tokenFor, useSharedSandbox, withSandbox } from './sandbox-http.js';

/**
 * The CHeKT sandbox over real HTTP: rate limit (docs/CHEKT-API.md#rate-limits), fault injection, stats/requests and the
 * `/__sandbox` routes. Every sandbox started here is closed in afterAll/finally.
 */

describe('CHeKT sandbox: limits, faults, inspection', () => {
  const shared = useSharedSandbox();
  let sb: Sandbox;
  let token: string;
  beforeEach(() => {
    ({ sb, token } = shared.current());
  });

  describe('rate limit', () => {
    it('answers 429 with Retry-After and X-RateLimit-* once the bucket is empty, counting /oauth/token', async () => {
      await withSandbox({ rateLimitPerMinute: 60, rateLimitBurst: 3, autoCreateSites: true }, async (rl) => {
        expect((await call(contactsUrl(rl))).headers.get('x-ratelimit-limit')).toBeNull(); // 401: no client, not counted
        const t = await tokenFor(rl); // 1st
        const first = await call(contactsUrl(rl), { token: t }); // 2nd
        expect(first.headers.get('x-ratelimit-limit')).toBe('60');
        expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
        await call(contactsUrl(rl), { token: t }); // 3rd
        const before = Math.floor(Date.now() / 1000);
        const limited = await call(contactsUrl(rl), { token: t });
        expect(limited.status).toBe(429);
        expect(limited.body).toEqual({ error: { code: 'rate_limited', message: 'rate limit of 60/min exceeded', request_id: expect.stringMatching(REQUEST_ID) } });
        expect(limited.headers.get('retry-after')).toBe('1');
        expect(limited.headers.get('x-ratelimit-limit')).toBe('60');
        expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
        const reset = Number(limited.headers.get('x-ratelimit-reset'));
        expect(reset).toBeGreaterThanOrEqual(before + 2);
        expect(reset).toBeLessThanOrEqual(before + 4);
        const tokenLimited = await call(`${rl.url}/oauth/token`, {
          method: 'POST',
          form: { grant_type: 'client_credentials', client_id: 'sandbox-client', client_secret: 'sandbox-secret' },
        });
        expect(tokenLimited.status).toBe(429);
        expect(tokenLimited.headers.get('retry-after')).toBe('1');
        expect(rl.stats()).toMatchObject({ total: 6, rateLimited: 2, tokens: 1 });
        rl.setRateLimit(0);
        const free = await call(contactsUrl(rl), { token: t });
        expect([free.status, free.headers.get('x-ratelimit-limit')]).toEqual([200, null]);
      });
    });
  });

  describe('faults', () => {
    it('errorRate 1 answers 503 before doing anything', async () => {
      sb.setFaults({ errorRate: 1 });
      const r = await call(contactsUrl(sb), { method: 'POST', token, json: JOHN });
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ error: { code: 'service_unavailable', request_id: expect.stringMatching(REQUEST_ID) } });
      expect(sb.contacts(DEALER, SITE)).toEqual([]);
      expect((await call(`${sb.url}/__sandbox/state`)).status).toBe(200); // inspection is never faulted
    });

    it('dropAfterCommitRate 1 commits the write, then the client sees a network error', async () => {
      sb.setFaults({ dropAfterCommitRate: 1 });
      await expect(call(contactsUrl(sb), { method: 'POST', token, json: JOHN })).rejects.toThrow('fetch failed');
      expect(sb.contacts(DEALER, SITE)).toEqual([expect.objectContaining({ contact_id: 1, external_contact_id: '1234' })]);
      await expect(call(`${contactsUrl(sb)}/1`, { method: 'DELETE', token })).rejects.toThrow('fetch failed');
      expect(sb.contacts(DEALER, SITE)).toEqual([]);
      expect((await call(contactsUrl(sb), { token })).status).toBe(200); // reads are never dropped
      expect(sb.stats()).toMatchObject({ total: 3, writes: 2, dropped: 2, byStatus: { '0': 2, '200': 1 } });
      expect(sb.requests().map((r) => r.status)).toEqual([0, 0, 200]);
    });

    it('rejectExternalContactIds answers 400 on create and update for those ids', async () => {
      sb.seedContact(DEALER, SITE, { ...JOHN, external_contact_id: 'bad-2' });
      sb.setFaults({ rejectExternalContactIds: ['bad-1', 'bad-2'] });
      const create = await call(contactsUrl(sb), { method: 'POST', token, json: { ...JOHN, external_contact_id: 'bad-1' } });
      expect([create.status, create.body]).toEqual([400, { error: expect.objectContaining({ code: 'invalid_field', field: 'external_contact_id' }) }]);
      const update = await call(`${contactsUrl(sb)}/1`, { method: 'PUT', token, json: { first_name: 'X' } });
      expect(update.status).toBe(400);
      expect((await call(contactsUrl(sb), { method: 'POST', token, json: JOHN })).status).toBe(201);
    });

    it('latencyMs delays /partner requests', async () => {
      sb.setFaults({ latencyMs: 150 });
      const started = performance.now();
      expect((await call(contactsUrl(sb), { token })).status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    });

    it('close() ends promptly while a request waits on injected latency', async () => {
      const slow = await startSandbox({ autoCreateSites: true, faults: { latencyMs: 30_000 } });
      const t = await tokenFor(slow);
      const pending = call(contactsUrl(slow), { token: t });
      await new Promise((r) => setTimeout(r, 50));
      const started = performance.now();
      await slow.close();
      expect(performance.now() - started).toBeLessThan(1000);
      await expect(pending).rejects.toThrow('fetch failed');
    });

    it('retryAfterSeconds answers every /partner request 429 with that Retry-After', async () => {
      await withSandbox({ autoCreateSites: true }, async (s) => {
        const t = await tokenFor(s);
        s.setFaults({ retryAfterSeconds: 300 });
        const limited = await call(contactsUrl(s), { token: t });
        expect(limited.status).toBe(429);
        expect(limited.headers.get('retry-after')).toBe('300');
        expect((limited.body as { error: { code: string } }).error.code).toBe('rate_limited');
        s.setFaults({ retryAfterSeconds: 0 });
        expect((await call(contactsUrl(s), { token: t })).status).toBe(200);
      });
    });

    it('tokenErrorRate 1 answers the token endpoint 503; tokenLatencyMs delays it', async () => {
      await withSandbox({ autoCreateSites: true }, async (s) => {
        const form = { grant_type: 'client_credentials', client_id: 'sandbox-client', client_secret: 'sandbox-secret' };
        s.setFaults({ tokenErrorRate: 1 });
        const down = await call(`${s.url}/oauth/token`, { method: 'POST', form });
        expect(down.status).toBe(503);
        expect((down.body as { error: string }).error).toBe('temporarily_unavailable');
        s.setFaults({ tokenErrorRate: 0, tokenLatencyMs: 300 });
        const started = performance.now();
        expect((await call(`${s.url}/oauth/token`, { method: 'POST', form })).status).toBe(200);
        expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      });
    });

    it('decides errorRate faults reproducibly from the seed', async () => {
      const statuses = async (s: Sandbox): Promise<number[]> => {
        const t = await tokenFor(s);
        s.setFaults({ errorRate: 0.5 });
        const out: number[] = [];
        for (let i = 0; i < 20; i += 1) out.push((await call(contactsUrl(s), { token: t })).status);
        return out;
      };
      await withSandbox({ seed: 42, autoCreateSites: true }, async (a) => {
        await withSandbox({ seed: 42, autoCreateSites: true }, async (b) => {
          const first = await statuses(a);
          expect(first).toContain(503);
          expect(first).toContain(200);
          expect(await statuses(b)).toEqual(first);
          a.reset();
          expect(await statuses(a)).toEqual(first);
        });
      });
    });
  });

  describe('stats, requests and /__sandbox', () => {
    it('counts exactly what was requested, and never the inspection routes', async () => {
      await call(contactsUrl(sb), { method: 'POST', token, json: JOHN, traceId: TRACE });
      await call(contactsUrl(sb), { token, traceId: 'not-a-uuid' });
      await call(`${contactsUrl(sb)}/77`, { method: 'DELETE', token });
      await call(contactsUrl(sb), { method: 'POST', json: JOHN });
      await call(`${sb.url}/__sandbox/state`);
      await call(`${sb.url}/__sandbox/requests`);
      expect(sb.stats()).toEqual({
        total: 4,
        byRoute: {
          [`POST ${CONTACTS_ROUTE}`]: 2,
          [`GET ${CONTACTS_ROUTE}`]: 1,
          [`DELETE ${CONTACTS_ROUTE}/:contactId`]: 1,
        },
        byStatus: { '201': 1, '200': 1, '404': 1, '401': 1 },
        writes: 3,
        tokens: 0,
        rateLimited: 0,
        dropped: 0,
      });
      const records = sb.requests();
      expect(records.map(({ at, ...rest }) => rest)).toEqual([
        { method: 'POST', path: `/partner/v1/dealers/${DEALER}/sites/${SITE}/contacts`, route: `POST ${CONTACTS_ROUTE}`, status: 201, traceId: TRACE, traceIdIsUuid: true, hasBearer: true },
        { method: 'GET', path: `/partner/v1/dealers/${DEALER}/sites/${SITE}/contacts`, route: `GET ${CONTACTS_ROUTE}`, status: 200, traceId: 'not-a-uuid', traceIdIsUuid: false, hasBearer: true },
        {
          method: 'DELETE',
          path: `/partner/v1/dealers/${DEALER}/sites/${SITE}/contacts/77`,
          route: `DELETE ${CONTACTS_ROUTE}/:contactId`,
          status: 404,
          traceId: null,
          traceIdIsUuid: false,
          hasBearer: true,
        },
        { method: 'POST', path: `/partner/v1/dealers/${DEALER}/sites/${SITE}/contacts`, route: `POST ${CONTACTS_ROUTE}`, status: 401, traceId: null, traceIdIsUuid: false, hasBearer: false },
      ]);
      expect(records.every((r) => Math.abs(r.at - Date.now()) < 10_000)).toBe(true);
      expect((await call(`${sb.url}/__sandbox/requests`)).body).toEqual(records);
    });

    it('exposes state and controls over HTTP', async () => {
      const base = `${sb.url}/__sandbox`;
      expect((await call(`${base}/sites`, { method: 'POST', json: { dealerId: 'd9', siteId: 's9' } })).status).toBe(201);
      const seeded = await call(`${base}/dealers/d9/sites/s9/contacts`, { method: 'POST', json: { external_contact_id: 'x1', first_name: 'A', last_name: 'B' } });
      expect(seeded.body).toEqual({ contact_id: 1, external_contact_id: 'x1', first_name: 'A', last_name: 'B', phone_number: null, email: null, created_at: expect.stringMatching(ISO_MS) });
      expect((await call(`${base}/dealers/d9/sites/s9/contacts/1`, { method: 'PUT', json: { email: 'a@b.c' } })).body).toMatchObject({ email: 'a@b.c' });
      const state = await call(`${base}/state`);
      expect(state.body).toEqual({
        sites: [
          { dealerId: DEALER, siteId: SITE, contacts: [] },
          { dealerId: DEALER, siteId: '2', contacts: [] },
          { dealerId: 'd9', siteId: 's9', contacts: [expect.objectContaining({ contact_id: 1, email: 'a@b.c' })] },
        ],
        stats: { total: 0, byRoute: {}, byStatus: {}, writes: 0, tokens: 0, rateLimited: 0, dropped: 0 },
      });
      expect((await call(`${base}/faults`, { method: 'PUT', json: { errorRate: 2 } })).body).toMatchObject({ error: { code: 'invalid_field', field: 'errorRate' } });
      expect((await call(`${base}/faults`, { method: 'PUT', json: { latencyMs: 5 } })).body).toEqual({
        latencyMs: 5,
        errorRate: 0,
        dropAfterCommitRate: 0,
        rejectExternalContactIds: [],
        storePhoneDigitsOnly: false,
        listLimit: 0,
        tokenLatencyMs: 0,
        tokenErrorRate: 0,
        retryAfterSeconds: 0,
        strictPhone: false,
        rejectFields: [],
        dropPhone: false,
      });
      expect((await call(`${base}/rate-limit`, { method: 'PUT', json: { perMinute: 600 } })).body).toEqual({ perMinute: 600, burst: 50 });
      expect((await call(contactsUrl(sb), { token })).headers.get('x-ratelimit-limit')).toBe('600');
      expect((await call(`${base}/rate-limit`, { method: 'PUT', json: { perMinute: 0 } })).status).toBe(200);
      expect((await call(`${base}/expire-tokens`, { method: 'POST' })).status).toBe(204);
      expect((await call(contactsUrl(sb), { token })).status).toBe(401);
      expect((await call(`${base}/reset-stats`, { method: 'POST' })).status).toBe(204);
      expect(sb.stats().total).toBe(0);
      expect((await call(`${base}/dealers/d9/sites/s9/contacts/1`, { method: 'DELETE' })).status).toBe(204);
      expect((await call(`${base}/reset`, { method: 'POST' })).status).toBe(204);
      expect(sb.allContacts()).toEqual([]);
    });
  });
});
