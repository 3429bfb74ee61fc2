import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ChektTokenError } from '../../src/chekt/errors/index.js';
import { TokenProvider, type TokenProviderOptions } from '../../src/chekt/token.js';
import { createLogger } from '../../src/logger.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { createTestDatabase, deleteRedisPrefix, dropTestDatabase, queuePrefix, testEnv } from './support/harness.js';
import { run } from './support/spawn.js';

/**
 * Signed-assertion mode against a token server whose clock differs from ours (docs/CHEKT-AUTH-AND-IDS.md#clock-skew), over real
 * HTTP: the sandbox's token endpoint refuses an assertion whose `iat` or `nbf` is in its future ("issued in the
 * future", no leeway) and stamps its `Date` header with its own (offset) clock. Then the backoff of token
 * requests after 5xx, against a node:http endpoint that answers 503 a few times.
 */

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const sandboxes: Sandbox[] = [];
let logs: string[] = [];

/** A sandbox whose clock is `offsetMs` from ours (negative: ours is fast), knowing one key-only client. */
async function slowServer(offsetMs: number): Promise<Sandbox> {
  const s = await startSandbox({ clients: [{ clientId: 'jwt-client', publicKeyPem }], clockOffsetMs: offsetMs });
  sandboxes.push(s);
  return s;
}

function provider(sandbox: { url: string }, overrides: Partial<TokenProviderOptions> = {}): TokenProvider {
  logs = [];
  return new TokenProvider({
    tokenUrl: `${sandbox.url}/oauth/token`,
    auth: { mode: 'private_key_jwt', clientId: 'jwt-client', privateKeyPem, keyId: 'k1', audience: 'https://chekt.example/' },
    timeoutMs: 5_000,
    refreshSkewSeconds: 60,
    logger: createLogger('debug', { write: (s: string) => void logs.push(s) }),
    ...overrides,
  });
}

const tokenCalls = (s: Sandbox) =>
  s
    .requests()
    .filter((r) => r.route === 'POST /oauth/token')
    .map((r) => r.status);

afterAll(async () => {
  for (const s of sandboxes) await s.close();
});

describe('a client clock ahead of the token server', () => {
  test('10 s fast: the first assertion is accepted (iat/nbf back-dated 30 s), no skew to correct', async () => {
    const s = await slowServer(-10_000);
    const p = provider(s);
    await expect(p.getToken()).resolves.toMatch(/^sbx_/);
    expect(tokenCalls(s)).toEqual([200]);
    expect(p.clockOffsetMs).toBe(0);
    // Absorbed, but said once, before a larger drift breaks it.
    const warns = logs.map((l) => JSON.parse(l) as { msg: string }).filter((l) => l.msg.startsWith('clock skew'));
    expect(warns.map((w) => w.msg)).toEqual([expect.stringMatching(/ahead of the token server's .*the token was issued \(assertions are back-dated 30 s\)/)]);
  });

  test('10 s fast with no margin: refused once as "issued in the future", the skew is logged, the next assertion on the server time is accepted', async () => {
    const s = await slowServer(-10_000);
    const p = provider(s, { clockMarginSeconds: 0 });
    await expect(p.getToken()).resolves.toMatch(/^sbx_/);
    expect(tokenCalls(s)).toEqual([401, 200]);
    expect(p.clockOffsetMs).toBeGreaterThan(-12_000);
    expect(p.clockOffsetMs).toBeLessThan(-8_000);
    const warn = logs.map((l) => JSON.parse(l) as { level: number; msg: string; clockSkewMs?: number }).find((l) => l.msg.startsWith('clock skew'));
    expect(warn?.level).toBe(40);
    expect(warn?.msg).toMatch(/this machine's clock is (9|10|11) s ahead of the token server's .*NTP/);
  });

  test('a refusal the skew does not explain still names the clock in the error and the log', async () => {
    const s = await slowServer(-120_000);
    const p = provider(s, { auth: { mode: 'private_key_jwt', clientId: 'unknown-client', privateKeyPem, keyId: 'k1', audience: 'a' } });
    const err = (await p.getToken().catch((e: unknown) => e)) as ChektTokenError;
    expect(err).toBeInstanceOf(ChektTokenError);
    expect(err).toMatchObject({ status: 401, code: 'invalid_client', retryable: false });
    expect(err.message).toMatch(/unknown client .*; this machine's clock is 1(19|20|21) s ahead of the token server's \(its Date header\); fix the clock \(NTP\)/);
    expect(tokenCalls(s)).toEqual([401, 401]);
    const failed = logs.map((l) => JSON.parse(l) as { msg: string; reason?: string }).find((l) => l.msg === 'chekt token request failed');
    expect(failed?.reason).toMatch(/ahead of the token server's/);
  });

  test('a clock 10 minutes slow (assertion already expired there) is corrected the same way', async () => {
    const s = await slowServer(600_000);
    const p = provider(s);
    await expect(p.getToken()).resolves.toMatch(/^sbx_/);
    expect(tokenCalls(s)).toEqual([401, 200]);
    expect(p.clockOffsetMs).toBeGreaterThan(590_000);
  });
});

describe('token requests after a 5xx back off', () => {
  let server: Server;
  let url: string;
  let arrivals: number[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        arrivals.push(Date.now());
        if (arrivals.length <= 4) res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream unavailable');
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'tok', expires_in: 3600 }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('an eager caller gets fast retryable errors; the endpoint sees growing, jittered gaps (base 500 ms here)', async () => {
    arrivals = [];
    const p = provider({ url }, { auth: { mode: 'client_secret', clientId: 'c', clientSecret: 'secret-value' }, backoffMs: 500, backoffMaxMs: 60_000 });
    let fastFailures = 0;
    let token: string | undefined;
    const deadline = Date.now() + 20_000;
    while (!token && Date.now() < deadline) {
      try {
        token = await p.getToken();
      } catch (err) {
        expect(err).toMatchObject({ name: 'ChektTokenError', retryable: true });
        if (/not retried for \d+ s after \d failed token request/.test((err as Error).message)) fastFailures += 1;
        await sleep(50);
      }
    }
    expect(token).toBe('tok');
    expect(arrivals).toHaveLength(5);
    const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
    // n-th failure in a row: wait in [½, 1] × 500 ms × 2^(n−1), plus the caller's 50 ms polling.
    gaps.forEach((g, i) => {
      expect(g).toBeGreaterThanOrEqual(250 * 2 ** i - 20);
      expect(g).toBeLessThanOrEqual(500 * 2 ** i + 400);
    });
    expect(fastFailures).toBeGreaterThan(20);
  }, 30_000);

  test('the default first wait is seconds: 1-2 s after one failure (CHEKT_TOKEN_BACKOFF_MS=2000), told to the caller', async () => {
    arrivals = [];
    const p = provider({ url }, { auth: { mode: 'client_secret', clientId: 'c', clientSecret: 'secret-value' } });
    await expect(p.getToken()).rejects.toMatchObject({ status: 503 });
    const err = (await p.getToken().catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/not retried for [12] s after 1 failed token request\(s\) in a row; last: CHeKT POST token: token request failed, status 503/);
    expect(arrivals).toHaveLength(1);
  });
});

describe('npm run sync in signed-assertion mode on a clock 10 s fast', () => {
  test('exits 0 and syncs (it exited 2 blaming the credentials); with no margin it still syncs and warns about the clock', async () => {
    const s = await startSandbox({ clients: [{ clientId: 'jwt-client', publicKeyPem }], clockOffsetMs: -10_000, sites: [{ dealerId: '3', siteId: '30' }] });
    sandboxes.push(s);
    const databaseUrl = await createTestDatabase('clockcli');
    const prefix = queuePrefix('clockcli');
    const dir = mkdtempSync(join(tmpdir(), 'cks-key-'));
    try {
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      await db.query(`INSERT INTO sites (id, chekt_dealer_id, chekt_site_id, name) VALUES ('s', '3', '30', 'Clock St')`);
      await db.query(`INSERT INTO contacts (id, site_id, first_name, last_name, phone_number) VALUES ('k1', 's', 'Kit', 'Clock', '+1 201 555 0131')`);
      await db.end();
      writeFileSync(join(dir, 'key.pem'), privateKeyPem);
      const { CHEKT_CLIENT_SECRET: _unused, ...base } = testEnv(s, databaseUrl, prefix, { LOG_LEVEL: 'warn' });
      const env = { ...base, CHEKT_CLIENT_ID: 'jwt-client', CHEKT_PRIVATE_KEY_FILE: join(dir, 'key.pem'), CHEKT_KEY_ID: 'k1', CHEKT_AUDIENCE: 'https://chekt.example/' };
      const r = await run('src/cli/sync.ts', [], env, 40_000);
      expect(r.stderr).not.toMatch(/rejected by the token endpoint/);
      expect(r.code).toBe(0);
      expect(s.contacts('3', '30').map((c) => c.external_contact_id)).toEqual(['k1']);

      const noMargin = await run('src/cli/sync.ts', [], { ...env, CHEKT_ASSERTION_CLOCK_MARGIN_SECONDS: '0' }, 40_000);
      expect(noMargin.code).toBe(0);
      expect(noMargin.stderr).toMatch(/clock skew: this machine's clock is (9|10|11) s ahead of the token server's/);
      expect(tokenCalls(s).slice(-2)).toEqual([401, 200]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await deleteRedisPrefix(prefix);
      await dropTestDatabase(databaseUrl);
    }
  }, 90_000);
});
