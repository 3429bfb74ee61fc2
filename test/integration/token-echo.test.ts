import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { runSync } from '../../src/cli/runSync.js';
import { TokenProvider } from '../../src/chekt/token.js';
import type { ChektAuthConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { opKey } from '../../src/domain/opKey.js';
import { startRun } from '../../src/sync/startRun.js';
import { createHarness, deleteRedisPrefix, queuePrefix, seedCrm, testEnv, type Harness } from './support/harness.js';
import { startLocalServer, type LocalServer } from './support/local-server.js';
import { run } from './support/spawn.js';

/**
 * A token endpoint that echoes what it was sent (docs/CHEKT-AUTH-AND-IDS.md#what-is-scrubbed): a 500 whose body repeats the form, as
 * text/plain, RFC 6749 JSON, nested JSON or a form. Neither the configured secret nor the signed assertion
 * may reach an error message, a log line, a ledger or operation row, a run report or the CLI's output.
 */

const SECRET = 'Zq9/x+Lm&k=Vt_S3CR3T-echo';
type Mode = 'proxy' | 'text' | 'json' | 'nested' | 'form';
let mode: Mode = 'proxy';
let server: LocalServer;
let echoUrl: string;
let sandboxTokenUrl = '';
let lastAssertion: string | undefined;

function echo(raw: string, authorization: string | undefined): { type: string; body: string } {
  const form = Object.fromEntries(new URLSearchParams(raw));
  lastAssertion = form.client_assertion ?? lastAssertion;
  switch (mode) {
    case 'text':
      return { type: 'text/plain', body: `cannot process request body: ${raw}` };
    case 'json':
      return { type: 'application/json', body: JSON.stringify({ error: 'server_error', error_description: `could not parse ${raw}` }) };
    case 'nested':
      return { type: 'application/json', body: JSON.stringify({ request: { headers: { authorization: authorization ?? `Bearer ${form.client_assertion ?? 'sbx_0123456789abcdef'}` }, form } }) };
    default:
      return { type: 'application/x-www-form-urlencoded', body: `error=server_error&${raw}` };
  }
}

beforeAll(async () => {
  server = await startLocalServer('/oauth/token', (raw, req, res) => {
    if (mode === 'proxy') {
      void fetch(sandboxTokenUrl, { method: 'POST', body: raw, headers: { 'content-type': 'application/x-www-form-urlencoded' } }).then(async (r) => {
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
      });
      return;
    }
    const { type, body } = echo(raw, req.headers.authorization);
    res.writeHead(500, { 'content-type': type }).end(body);
  });
  echoUrl = server.url;
});

afterAll(async () => {
  await server.close();
});

const SHAPES: Mode[] = ['text', 'json', 'nested', 'form'];
const leaks = (text: string, assertion?: string) =>
  [SECRET, encodeURIComponent(SECRET), new URLSearchParams({ s: SECRET }).toString().slice(2), JSON.stringify(SECRET).slice(1, -1), ...(assertion ? [assertion] : [])].filter((s) => text.includes(s));

describe('TokenProvider errors and logs', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwtAuth: ChektAuthConfig = { mode: 'private_key_jwt', clientId: 'c', keyId: 'k', audience: 'a', privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  test.each(SHAPES)('an echoed %s body: no secret, no assertion, in the error or the log', async (shape) => {
    mode = shape;
    for (const auth of [{ mode: 'client_secret', clientId: 'c', clientSecret: SECRET } as const, jwtAuth]) {
      const lines: string[] = [];
      const p = new TokenProvider({ tokenUrl: echoUrl, auth, timeoutMs: 5_000, refreshSkewSeconds: 60, logger: createLogger('debug', { write: (s: string) => void lines.push(s) }) });
      lastAssertion = undefined;
      const err = (await p.getToken().catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/token request failed, status 500/);
      if (auth.mode === 'private_key_jwt') expect(lastAssertion).toMatch(/^eyJ/);
      expect(leaks(err.message, lastAssertion)).toEqual([]);
      expect(leaks(lines.join(''), lastAssertion)).toEqual([]);
      expect(err.message).toMatch(/\[redacted\]/);
    }
  });
});

describe('the service and the CLI', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('echo', {
      sandbox: { clients: [{ clientId: 'sandbox-client', clientSecret: SECRET }] },
      env: { CHEKT_CLIENT_SECRET: SECRET, CHEKT_TOKEN_URL: echoUrl, CHEKT_TOKEN_BACKOFF_MS: '100', CHEKT_TOKEN_BACKOFF_MAX_MS: '200' },
    });
    sandboxTokenUrl = `${h.sandbox.url}/oauth/token`;
    await seedCrm(h, [{ id: 's', dealerId: '8', siteId: '80' }], [{ id: 'e1', siteId: 's', firstName: 'Eve', lastName: 'Echo', phoneNumber: '+1 201 555 0111' }]);
    await h.app.startWorkers();
    mode = 'proxy';
    expect((await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 })).counts).toEqual({ create: { succeeded: 1 } });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  test('a reconcile and an operation that fail on the echoing endpoint store and log no secret', async () => {
    mode = 'json';
    h.app.tokens.invalidate();
    const report = await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 });
    expect(report.sites.errors[0]?.error).toMatch(/token request failed, status 500, code server_error - could not parse .*client_secret=\[redacted\]/);

    mode = 'text';
    h.sandbox.expireAllTokens();
    await h.app.db.contact.updateMany({ where: { id: 'e1' }, data: { lastName: 'Echoed' } });
    await startRun(h.app.planDeps, { mode: 'changes', trigger: 'schedule', dryRun: false });
    // A token 500 is transient: the operation keeps retrying (docs/RETRIES.md) and its last error is the job's
    // failed reason in Redis (shown by bull-board), not a failure in PostgreSQL.
    let stored = '';
    for (let i = 0; i < 150 && !/token request failed/.test(stored); i++) {
      await sleep(200);
      const job = await h.app.operationsQueue.getJob(opKey('8', '80', 'e1'));
      stored = `${job?.failedReason ?? ''} ${(job?.stacktrace ?? []).join(' ')}`;
    }
    expect(stored).toMatch(/token request failed, status 500 - cannot process request body: .*client_secret=\[redacted\]/);
    expect(leaks(stored)).toEqual([]);
    const dump = await h.app.db.$queryRawUnsafe<Array<{ t: string }>>(
      `SELECT (SELECT string_agg(row_to_json(r)::text, ' ') FROM sync_runs r) || (SELECT string_agg(row_to_json(l)::text, ' ') FROM sync_ledger l) || (SELECT string_agg(row_to_json(o)::text, ' ') FROM sync_operations o) AS t`,
    );
    expect(leaks(dump[0]?.t ?? '')).toEqual([]);
    expect(h.rawLogs()).toMatch(/chekt token request failed/);
    expect(leaks(h.rawLogs())).toEqual([]);
  }, 60_000);

  test.each(SHAPES)(
    'npm run sync prints the failure (%s echo) without the secret',
    async (shape) => {
      mode = shape;
      const prefix = queuePrefix('echo-cli');
      const env = testEnv(h.sandbox, h.databaseUrl, prefix, { CHEKT_CLIENT_SECRET: SECRET, CHEKT_TOKEN_URL: echoUrl, LOG_LEVEL: 'debug' });
      const r = await run('src/cli/sync.ts', [], env, 30_000).finally(() => deleteRedisPrefix(prefix));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/sync failed: CHeKT POST token: token request failed, status 500/);
      expect(leaks(r.stdout + r.stderr)).toEqual([]);
    },
    40_000,
  );
});
