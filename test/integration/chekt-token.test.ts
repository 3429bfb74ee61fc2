/**
 * TokenProvider against a tiny local token endpoint (node:http on port 0): the fault cases (slow, 5xx, 401,
 * malformed bodies, refused connections) need exact control that the sandbox does not offer. The sandbox
 * round-trip for both auth modes is in chekt-client.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { ChektTokenError } from '../../src/chekt/errors/index.js';
import { createUnlimitedRateLimiter } from '../../src/chekt/rateLimiter.js';
import { JWT_BEARER_ASSERTION_TYPE, TokenProvider, type TokenProviderOptions } from '../../src/chekt/token.js';
import type { ChektAuthConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { freePort, startLocalServer, type LocalServer } from './support/local-server.js';

type Handler = (form: URLSearchParams, req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

let server: LocalServer;
let tokenUrl: string;
let handler: Handler;
let forms: URLSearchParams[];
let issued: number;
let logLines: string[];

const SECRET = 'sup3r-s3cret-value';
const secretAuth: ChektAuthConfig = { mode: 'client_secret', clientId: 'client-1', clientSecret: SECRET };

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
const okToken: Handler = (_f, _q, res) => {
  issued += 1;
  json(res, 200, { access_token: `tok-${issued}`, token_type: 'Bearer', expires_in: 3600 });
};

beforeAll(async () => {
  server = await startLocalServer('/oauth/token', (raw, req, res) => {
    const form = new URLSearchParams(raw);
    forms.push(form);
    void handler(form, req, res);
  });
  tokenUrl = server.url;
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  handler = okToken;
  forms = [];
  issued = 0;
  logLines = [];
});

function provider(overrides: Partial<TokenProviderOptions> = {}): TokenProvider {
  return new TokenProvider({
    tokenUrl,
    auth: secretAuth,
    timeoutMs: 2000,
    refreshSkewSeconds: 60,
    logger: createLogger('debug', { write: (s: string) => void logLines.push(s) }),
    ...overrides,
  });
}

describe('TokenProvider (client_secret)', () => {
  it('posts the client-credentials form and caches the token', async () => {
    const p = provider();
    for (let i = 0; i < 5; i++) expect(await p.getToken()).toBe('tok-1');
    expect(forms).toHaveLength(1);
    expect(Object.fromEntries(forms[0]!)).toEqual({ grant_type: 'client_credentials', client_id: 'client-1', client_secret: SECRET });
    expect(p.renewals).toBe(1);
  });

  it('shares one request between concurrent first callers', async () => {
    handler = async (f, q, res) => {
      await new Promise((r) => setTimeout(r, 100));
      await okToken(f, q, res);
    };
    const p = provider();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => p.getToken()));
    expect(new Set(tokens)).toEqual(new Set(['tok-1']));
    expect(forms).toHaveLength(1);
  });

  it('renews expires_in minus the skew after issue', async () => {
    let now = 1_000_000;
    const p = provider({ now: () => now });
    expect(await p.getToken()).toBe('tok-1');
    now += (3600 - 60) * 1000 - 1;
    expect(await p.getToken()).toBe('tok-1');
    now += 1;
    expect(await p.getToken()).toBe('tok-2');
    expect(p.renewals).toBe(2);
  });

  it('keeps a short-lived token for half its life when the skew exceeds it; reads string expires_in', async () => {
    handler = (_f, _q, res) => json(res, 200, { access_token: `tok-${++issued}`, expires_in: '30' });
    let now = 0;
    const p = provider({ now: () => now, refreshSkewSeconds: 60 });
    await p.getToken();
    now = 14_999;
    expect(await p.getToken()).toBe('tok-1');
    now = 15_000;
    expect(await p.getToken()).toBe('tok-2');
  });

  it('uses fallbackTtlSeconds when expires_in is missing', async () => {
    handler = (_f, _q, res) => json(res, 200, { access_token: `tok-${++issued}` });
    let now = 0;
    const p = provider({ now: () => now, refreshSkewSeconds: 0, fallbackTtlSeconds: 100 });
    await p.getToken();
    now = 99_999;
    expect(await p.getToken()).toBe('tok-1');
    now = 100_000;
    expect(await p.getToken()).toBe('tok-2');
  });

  it('renew(stale): N concurrent 401s cause one renewal; a late renew of an old token costs nothing', async () => {
    const p = provider();
    const t1 = await p.getToken();
    handler = async (f, q, res) => {
      await new Promise((r) => setTimeout(r, 50));
      await okToken(f, q, res);
    };
    const renewed = await Promise.all(Array.from({ length: 10 }, () => p.renew(t1)));
    expect(new Set(renewed)).toEqual(new Set(['tok-2']));
    expect(await p.renew(t1)).toBe('tok-2');
    expect(await p.getToken()).toBe('tok-2');
    expect(p.renewals).toBe(2);
    expect(await p.renew('tok-2')).toBe('tok-3');
  });

  it('maps 401 invalid_client to a non-retryable ChektTokenError and does not cache the failure', async () => {
    handler = (_f, _q, res) => json(res, 401, { error: 'invalid_client', error_description: 'Unknown client' });
    const p = provider();
    const err = await p.getToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChektTokenError);
    expect(err).toMatchObject({ status: 401, code: 'invalid_client', retryable: false, endpoint: 'POST token' });
    handler = okToken;
    expect(await p.getToken()).toBe('tok-1');
    expect(p.failures).toBe(1);
  });

  it.each([
    [500, true],
    [503, true],
    [429, true],
    [400, false],
  ])('status %i → retryable %p', async (status, retryable) => {
    handler = (_f, _q, res) => json(res, status, { error: 'x' });
    await expect(provider().getToken()).rejects.toMatchObject({ name: 'ChektTokenError', status, retryable });
  });

  it('rejects a 200 without access_token as not retryable, and non-JSON too', async () => {
    handler = (_f, _q, res) => json(res, 200, { token_type: 'Bearer' });
    await expect(provider().getToken()).rejects.toMatchObject({ name: 'ChektTokenError', status: 200, retryable: false });
    handler = (_f, _q, res) => void res.writeHead(200).end('<html>ok</html>');
    await expect(provider().getToken()).rejects.toMatchObject({ name: 'ChektTokenError', status: 200, retryable: false });
  });

  it('times out as a retryable ChektTokenError', async () => {
    handler = async (f, q, res) => {
      await new Promise((r) => setTimeout(r, 500));
      if (!res.destroyed) await okToken(f, q, res);
    };
    await expect(provider({ timeoutMs: 100 }).getToken()).rejects.toMatchObject({ name: 'ChektTokenError', code: 'timeout', retryable: true });
  });

  it('maps a refused connection to a retryable ChektTokenError', async () => {
    const port = await freePort();
    const err = await provider({ tokenUrl: `http://127.0.0.1:${port}/oauth/token` })
      .getToken()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ChektTokenError', status: undefined, code: 'ECONNREFUSED', retryable: true });
  });

  it('takes a rate-limiter slot per token request when given one', async () => {
    const rateLimiter = createUnlimitedRateLimiter();
    const p = provider({ rateLimiter });
    await p.getToken();
    await p.getToken();
    expect(rateLimiter.stats?.().acquired).toBe(1);
  });

  it('never logs the token or the secret', async () => {
    const p = provider();
    const t = await p.getToken();
    handler = (_f, _q, res) => json(res, 401, { error: 'invalid_client', error_description: 'nope' });
    await p.renew(t).catch(() => undefined);
    const out = logLines.join('\n');
    expect(out).toContain('chekt token renewed');
    expect(out).toContain('chekt token request failed');
    expect(out).not.toContain(t);
    expect(out).not.toContain(SECRET);
  });
});

describe('TokenProvider (private_key_jwt)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const auth: ChektAuthConfig = {
    mode: 'private_key_jwt',
    clientId: 'm2m-client',
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    keyId: 'key-2026',
    audience: 'https://adc-m2m.chektdev.com/',
  };

  it('posts an RS256 client assertion with kid, iss=sub=client_id, aud, iat, exp=iat+300 and a uuid jti', async () => {
    const p = provider({ auth });
    expect(await p.getToken()).toBe('tok-1');
    const form = Object.fromEntries(forms[0]!);
    expect(form).toMatchObject({
      grant_type: 'client_credentials',
      client_id: 'm2m-client',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      audience: 'https://adc-m2m.chektdev.com/',
    });
    expect(form).not.toHaveProperty('client_secret');
    const assertion = form['client_assertion']!;
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'RS256', kid: 'key-2026' });
    const key = await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'RS256');
    const { payload } = await jwtVerify(assertion, key, { issuer: 'm2m-client', subject: 'm2m-client', audience: 'https://adc-m2m.chektdev.com/' });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(logLines.join('\n')).not.toContain(assertion);
  });

  it('signs with a PKCS#1 ("BEGIN RSA PRIVATE KEY") key too, with a fresh jti each time', async () => {
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const p = provider({ auth: { ...auth, privateKeyPem: pkcs1 } });
    const t1 = await p.getToken();
    await p.renew(t1);
    const jtis = forms.map((f) => JSON.parse(Buffer.from(f.get('client_assertion')!.split('.')[1]!, 'base64url').toString()).jti);
    expect(jtis).toHaveLength(2);
    expect(jtis[0]).not.toBe(jtis[1]);
  });

  it('reports an unusable key as a non-retryable ChektTokenError without sending anything', async () => {
    const p = provider({ auth: { ...auth, privateKeyPem: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' } });
    await expect(p.getToken()).rejects.toMatchObject({ name: 'ChektTokenError', code: 'invalid_private_key', retryable: false });
    expect(forms).toHaveLength(0);
  });
});
