import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import type { Sandbox } from '../../src/sandbox/server.js';
import { DEALER, ISO_MS, JOHN, REQUEST_ID, SCOPE, SITE, TRACE, call, contactsUrl, tokenFor, useSharedSandbox, withSandbox } from './sandbox-http.js';

/**
 * The CHeKT sandbox over real HTTP (global fetch): the token endpoint (docs/CHEKT-API.md#token-endpoint) and the five Contacts
 * endpoints with their errors (docs/CHEKT-API.md#contacts-endpoints, docs/CHEKT-API.md#error-bodies). Faults, rate limit and inspection: ./sandbox-faults.test.ts.
 * Every sandbox started here is closed in afterAll/finally.
 */

describe('CHeKT sandbox over HTTP', () => {
  const shared = useSharedSandbox();
  let sb: Sandbox;
  let token: string;
  beforeEach(() => {
    ({ sb, token } = shared.current());
  });

  describe('POST /oauth/token', () => {
    it('issues a Bearer token for a form client_secret request', async () => {
      const r = await call(`${sb.url}/oauth/token`, {
        method: 'POST',
        form: { grant_type: 'client_credentials', client_id: 'sandbox-client', client_secret: 'sandbox-secret' },
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.body).toEqual({ access_token: expect.stringMatching(/^sbx_/), token_type: 'Bearer', expires_in: 3600, scope: SCOPE });
      expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    });

    it('accepts a JSON body too', async () => {
      const r = await call(`${sb.url}/oauth/token`, {
        method: 'POST',
        json: { grant_type: 'client_credentials', client_id: 'sandbox-client', client_secret: 'sandbox-secret' },
      });
      expect(r.status).toBe(200);
    });

    it('answers RFC 6749 §5.2 errors', async () => {
      const bad = await call(`${sb.url}/oauth/token`, {
        method: 'POST',
        form: { grant_type: 'client_credentials', client_id: 'sandbox-client', client_secret: 'wrong' },
      });
      expect(bad.status).toBe(401);
      expect(bad.body).toEqual({ error: 'invalid_client', error_description: 'unknown client or wrong client_secret' });
      const grant = await call(`${sb.url}/oauth/token`, { method: 'POST', form: { client_id: 'sandbox-client', client_secret: 'sandbox-secret' } });
      expect(grant.status).toBe(400);
      expect(grant.body).toEqual({ error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' });
      expect(sb.stats()).toMatchObject({ total: 2, tokens: 0, byStatus: { '400': 1, '401': 1 } });
    });

    it('issues a token for an RS256 client assertion verified with the registered public key', async () => {
      const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
      const other = await generateKeyPair('RS256', { extractable: true });
      const publicKeyPem = await exportSPKI(publicKey);
      await withSandbox({ clients: [{ clientId: 'partner-a', publicKeyPem }], autoCreateSites: true, tokenTtlSeconds: 86400 }, async (ksb) => {
        const sign = (key: typeof privateKey) =>
          new SignJWT({ jti: crypto.randomUUID() })
            .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
            .setIssuer('partner-a')
            .setSubject('partner-a')
            .setAudience(`${ksb.url}/`)
            .setIssuedAt()
            .setExpirationTime('5m')
            .sign(key);
        const form = (assertion: string) => ({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
          audience: 'https://adc-m2m.chektdev.com/',
        });
        const ok = await call(`${ksb.url}/oauth/token`, { method: 'POST', form: form(await sign(privateKey)) });
        expect(ok.status).toBe(200);
        expect(ok.body).toMatchObject({ token_type: 'Bearer', expires_in: 86400, scope: SCOPE });
        const list = await call(contactsUrl(ksb), { token: (ok.body as { access_token: string }).access_token });
        expect(list.status).toBe(200);
        const forged = await call(`${ksb.url}/oauth/token`, { method: 'POST', form: form(await sign(other.privateKey)) });
        expect(forged.status).toBe(401);
        expect(forged.body).toEqual({ error: 'invalid_client', error_description: 'assertion signature does not verify' });
      });
    });
  });

  describe('the five Contacts endpoints', () => {
    it('creates (201), lists (bare array), gets, updates partially and deletes (204)', async () => {
      const created = await call(contactsUrl(sb), { method: 'POST', token, json: JOHN, traceId: TRACE });
      expect(created.status).toBe(201);
      expect(created.headers.get('x-partner-trace-id')).toBe(TRACE);
      expect(created.body).toEqual({ contact_id: 1, ...JOHN, created_at: expect.stringMatching(ISO_MS) });
      const createdAt = (created.body as { created_at: string }).created_at;

      const second = await call(contactsUrl(sb), { method: 'POST', token, json: { external_contact_id: '99', first_name: 'Ann', last_name: 'Lee' } });
      expect(second.body).toEqual({ contact_id: 2, external_contact_id: '99', first_name: 'Ann', last_name: 'Lee', phone_number: null, email: null, created_at: expect.stringMatching(ISO_MS) });

      const list = await call(contactsUrl(sb), { token });
      expect(list.status).toBe(200);
      expect(Array.isArray(list.body)).toBe(true);
      expect((list.body as Array<{ contact_id: number }>).map((c) => c.contact_id)).toEqual([1, 2]);

      const one = await call(`${contactsUrl(sb)}/1`, { token });
      expect(one.status).toBe(200);
      expect(one.body).toEqual({ contact_id: 1, ...JOHN, created_at: createdAt });

      const put = await call(`${contactsUrl(sb)}/1`, {
        method: 'PUT',
        token,
        json: { first_name: 'Jane', email: '', external_contact_id: 'ignored', unknown: true },
      });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({ ...JOHN, contact_id: 1, first_name: 'Jane', email: null, created_at: createdAt });

      const del = await call(`${contactsUrl(sb)}/1`, { method: 'DELETE', token });
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expect((await call(`${contactsUrl(sb)}/1`, { token })).status).toBe(404);
      expect(sb.contacts(DEALER, SITE).map((c) => c.external_contact_id)).toEqual(['99']);
    });

    it('answers 401 with the envelope for a missing, unknown or expired token', async () => {
      const missing = await call(contactsUrl(sb));
      expect(missing.status).toBe(401);
      expect(missing.body).toEqual({ error: { code: 'invalid_api_key', message: 'missing bearer token', request_id: expect.stringMatching(REQUEST_ID) } });
      expect((await call(contactsUrl(sb), { token: 'sbx_forged' })).status).toBe(401);
      sb.expireAllTokens();
      const expired = await call(contactsUrl(sb), { token });
      expect(expired.status).toBe(401);
      expect(expired.body).toMatchObject({ error: { code: 'invalid_api_key', message: 'access token expired' } });
      expect(expired.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    });

    it('expires tokens after tokenTtlSeconds', async () => {
      await withSandbox({ tokenTtlSeconds: 1, autoCreateSites: true }, async (ttl) => {
        const t = await tokenFor(ttl);
        expect((await call(contactsUrl(ttl), { token: t })).status).toBe(200);
        await new Promise((r) => setTimeout(r, 1100));
        expect((await call(contactsUrl(ttl), { token: t })).status).toBe(401);
      });
    });

    it('answers 404 naming the unknown dealer, site or contact', async () => {
      const dealer = await call(contactsUrl(sb, '999', SITE), { token });
      expect(dealer.status).toBe(404);
      expect(dealer.body).toEqual({ error: { code: 'not_found', message: 'dealer 999 not found', request_id: expect.stringMatching(REQUEST_ID), field: 'dealerId' } });
      const site = await call(contactsUrl(sb, DEALER, '3'), { method: 'POST', token, json: JOHN });
      expect(site.body).toMatchObject({ error: { code: 'not_found', field: 'siteId' } });
      const other = sb.seedContact(DEALER, '2', { ...JOHN, email: null });
      for (const id of [String(other.contact_id), '424242', 'abc', '1.5', '-1']) {
        const r = await call(`${contactsUrl(sb)}/${id}`, { method: 'PUT', token, json: { first_name: 'X' } });
        expect([id, r.status, (r.body as { error: { field: string } }).error.field]).toEqual([id, 404, 'contactId']);
      }
      expect(sb.contacts(DEALER, '2')[0]?.first_name).toBe('John');
    });

    it('registers unknown sites on first use when autoCreateSites', async () => {
      await withSandbox({ autoCreateSites: true }, async (auto) => {
        const r = await call(contactsUrl(auto, 'd-new', 's-new'), { method: 'POST', token: await tokenFor(auto), json: JOHN });
        expect(r.status).toBe(201);
        expect(auto.allContacts()).toEqual([{ ...(r.body as object), dealerId: 'd-new', siteId: 's-new' }]);
      });
    });

    it('answers 409 for a duplicate external_contact_id in the same site only', async () => {
      expect((await call(contactsUrl(sb), { method: 'POST', token, json: JOHN })).status).toBe(201);
      const dup = await call(contactsUrl(sb), { method: 'POST', token, json: { ...JOHN, first_name: 'Again' } });
      expect(dup.status).toBe(409);
      expect(dup.body).toEqual({
        error: {
          code: 'duplicate_external_contact_id',
          message: 'site already has a contact with external_contact_id 1234 (contact_id 1)',
          request_id: expect.stringMatching(REQUEST_ID),
          field: 'external_contact_id',
        },
      });
      expect((await call(contactsUrl(sb, DEALER, '2'), { method: 'POST', token, json: JOHN })).status).toBe(201);
    });

    it.each([
      ['external_contact_id', 'missing_field', { first_name: 'J', last_name: 'D' }],
      ['last_name', 'invalid_field', { ...JOHN, last_name: '  ' }],
      ['phone_number', 'invalid_field', { ...JOHN, phone_number: 1234567890 }],
      ['email', 'invalid_field', { ...JOHN, email: `${'a'.repeat(250)}@x.com` }], // 256 characters
    ])('answers 400 naming %s (%s)', async (field, code, json) => {
      const r = await call(contactsUrl(sb), { method: 'POST', token, json });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: { code, field, request_id: expect.stringMatching(REQUEST_ID) } });
      expect(sb.contacts(DEALER, SITE)).toEqual([]);
    });

    it('answers 400 for an empty body, invalid JSON and a non-JSON content type', async () => {
      const empty = await fetch(contactsUrl(sb), { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect([empty.status, await empty.json()]).toEqual([400, { error: expect.objectContaining({ code: 'invalid_body' }) }]);
      const broken = await fetch(contactsUrl(sb), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{' });
      expect([broken.status, await broken.json()]).toEqual([400, { error: expect.objectContaining({ code: 'bad_request' }) }]);
      const form = await call(contactsUrl(sb), { method: 'POST', token, form: { external_contact_id: '1', first_name: 'a', last_name: 'b' } });
      expect(form.status).toBe(415);
      expect(form.body).toMatchObject({ error: { code: 'unsupported_media_type' } });
    });

    it('reflects dealer-side changes made with seedContact/updateContactDirect/deleteContactDirect', async () => {
      const seeded = sb.seedContact(DEALER, SITE, { external_contact_id: '', first_name: 'Portal', last_name: 'Made', phone_number: null, email: null });
      sb.updateContactDirect(DEALER, SITE, seeded.contact_id, { phone_number: '5550000' });
      expect((await call(`${contactsUrl(sb)}/${seeded.contact_id}`, { token })).body).toMatchObject({ phone_number: '5550000' });
      sb.deleteContactDirect(DEALER, SITE, seeded.contact_id);
      expect((await call(contactsUrl(sb), { token })).body).toEqual([]);
      expect(() => sb.deleteContactDirect(DEALER, SITE, seeded.contact_id)).toThrow('no contact');
      expect(sb.stats().total).toBe(2);
    });
  });
});
