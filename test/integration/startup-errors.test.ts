import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createProcessFixture, type ProcessFixture } from './support/harness.js';
import { freePort } from './support/processes.js';
import { childEnv, run } from './support/spawn.js';

/**
 * Start-up failures as a partner meets them (docs/CONFIGURATION.md "Start-up errors"), through the compiled
 * CLI and service: each names the variable and where it points (never a password), says what is wrong in plain
 * words instead of the libraries' ("maxRetriesPerRequest", "Raw query failed. Code: 3D000", "fetch failed"), and
 * exits 2. Also: `.env` reaches every process, and the real environment wins over it.
 */

let fx: ProcessFixture;
const JARGON = /maxRetriesPerRequest|Raw query failed|3D000|fetch failed|ClusterAllFailedError/;

beforeAll(async () => {
  fx = await createProcessFixture('starterr', [{ dealerId: '80', siteId: '1' }], { LOG_LEVEL: 'silent' });
  await fx.db.$executeRawUnsafe(`INSERT INTO sites (id, chekt_dealer_id, chekt_site_id, name) VALUES ('s', '80', '1', 'Depot')`);
}, 60_000);

afterAll(async () => {
  await fx?.close();
});

const expectClear = (r: { code: number | null; stderr: string }, message: RegExp) => {
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(JARGON);
  expect(r.code).toBe(2);
};

describe('connection failures name the variable and the target, in plain words, exit 2', () => {
  test('Redis refused: REDIS_URL with the password hidden, "connection refused"', async () => {
    const r = await run('src/cli/sync.ts', ['--dry-run'], { ...fx.env, REDIS_URL: 'redis://:hunter2-secret@127.0.0.1:1' }, 30_000);
    expectClear(r, /REDIS_URL: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: connection refused/);
    expect(r.stderr).not.toMatch(/hunter2/);
  }, 40_000);

  test('Redis Cluster seeds refused, and a single server named as a cluster', async () => {
    const refused = await run('src/cli/sync.ts', ['--dry-run'], { ...fx.env, REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2' }, 40_000);
    expectClear(refused, /REDIS_CLUSTER_NODES: cannot reach Redis at the cluster at 127\.0\.0\.1:1,127\.0\.0\.1:2: 127\.0\.0\.1:1: connection refused/);
    const single = await run('src/cli/sync.ts', ['--dry-run'], { ...fx.env, REDIS_CLUSTER_NODES: '127.0.0.1:6379' }, 40_000);
    expectClear(single, /REDIS_CLUSTER_NODES: .*127\.0\.0\.1:6379: this server is not a cluster node: use REDIS_URL/);
  }, 90_000);

  test('a database that does not exist: status and sync say so and how to create it; db:migrate names a refused server', async () => {
    const url = new URL(fx.databaseUrl);
    url.pathname = '/cks_missing_db';
    const status = await run('src/cli/status.ts', [], { DATABASE_URL: url.toString() }, 30_000);
    expectClear(status, /DATABASE_URL: cannot reach PostgreSQL at .*cks_missing_db: database "cks_missing_db" does not exist; `npm run db:migrate` creates it/);
    const sync = await run('src/cli/sync.ts', ['--dry-run'], { ...fx.env, DATABASE_URL: url.toString() }, 30_000);
    expectClear(sync, /database "cks_missing_db" does not exist/);
    const migrate = await run('src/db/cli.ts', [], { DATABASE_URL: 'postgresql://postgres:pw-secret@127.0.0.1:1/x' }, 30_000);
    expectClear(migrate, /DATABASE_URL: cannot reach PostgreSQL at postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/x: connection refused/);
  }, 60_000);

  test('a CHEKT_TOKEN_URL that is not a token endpoint (404) and one whose host does not resolve', async () => {
    const wrong = `${fx.sandbox.url}/auth/token`;
    const r = await run('src/cli/sync.ts', ['--dry-run'], { ...fx.env, CHEKT_TOKEN_URL: wrong }, 30_000);
    expectClear(r, new RegExp(`CHEKT_TOKEN_URL \\(${wrong.replace(/[.]/g, '\\.')}\\): not a token endpoint: it answered HTTP 404`));
    const dns = await run('src/cli/sync.ts', ['--dry-run'], { ...fx.env, CHEKT_TOKEN_URL: 'https://auth.no-such-host.invalid/oauth/token' }, 30_000);
    expectClear(dns, /CHEKT_TOKEN_URL \(https:\/\/auth\.no-such-host\.invalid\/oauth\/token\): unknown host/);
    // The service refuses to start too (a wrong URL is configuration, not an outage).
    const service = await run('src/main.ts', [], { ...fx.env, CHEKT_TOKEN_URL: wrong, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', ADMIN_USER: 'ops', ADMIN_PASSWORD: 'a-long-admin-password' }, 30_000);
    expectClear(service, /CHEKT_TOKEN_URL .*not a token endpoint: it answered HTTP 404/);
  }, 90_000);

  test('a CHEKT_API_URL nobody listens on names CHEKT_API_URL and the derived token URL; one ending in /partner/v1 is refused', async () => {
    const port = await freePort();
    const r = await run('src/cli/sync.ts', ['--dry-run'], { ...fx.env, CHEKT_API_URL: `http://127.0.0.1:${port}` }, 30_000);
    expectClear(r, new RegExp(`CHEKT_API_URL \\(token endpoint http://127\\.0\\.0\\.1:${port}/oauth/token\\): connection refused`));
    // Port 1 is on fetch's list of blocked ports: the reason is fetch's own, not "fetch failed".
    const blocked = await run('src/cli/sync.ts', ['--dry-run'], { ...fx.env, CHEKT_API_URL: 'http://127.0.0.1:1' }, 30_000);
    expectClear(blocked, /CHEKT_API_URL \(token endpoint http:\/\/127\.0\.0\.1:1\/oauth\/token\): cannot connect \(bad port\)/);
    const suffix = await run('src/cli/sync.ts', ['--dry-run'], { ...fx.env, CHEKT_API_URL: `${fx.sandbox.url}/partner/v1` }, 30_000);
    expectClear(suffix, /CHEKT_API_URL: must be the base URL without \/partner\/v1 \(the client adds it\)/);
  }, 60_000);
});

test('`demo -- --serve` checks its HTTP port before the demo runs: taken, exit 2 at once', async () => {
  const port = await freePort();
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(port, '127.0.0.1', () => r()));
  try {
    const started = Date.now();
    const r = await run('tools/demo/main.ts', ['--serve'], { HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/never-touched' }, 30_000);
    expectClear(r, new RegExp(`HTTP_HOST / HTTP_PORT: 127\\.0\\.0\\.1:${port} is in use; --serve needs it for the dashboard`));
    expect(r.stdout).not.toMatch(/Seeded the CRM/);
    expect(Date.now() - started).toBeLessThan(15_000);
  } finally {
    taken.close();
  }
}, 40_000);

test('`npm run sandbox` on a port in use names SANDBOX_HOST / SANDBOX_PORT and exits 2', async () => {
  const port = await freePort();
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(port, '127.0.0.1', () => r()));
  try {
    const r = await run('src/sandbox/main.ts', [], { SANDBOX_PORT: String(port), SANDBOX_HOST: '127.0.0.1' }, 30_000);
    expectClear(r, new RegExp(`SANDBOX_HOST / SANDBOX_PORT: cannot listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE`));
  } finally {
    taken.close();
  }
}, 40_000);

describe('.env reaches every process', () => {
  const dist = resolve('dist/cli/status.js');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cks-env-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // ENV_FILE empty: the default, `.env` in the working directory.
  const status = (env: Record<string, string>) => spawnSync(process.execPath, [dist, '--json'], { cwd: dir, env: childEnv({ ENV_FILE: '', ...env }), encoding: 'utf8', timeout: 30_000 });

  test('`.env` in the working directory is read; a variable of the real environment wins over it', () => {
    writeFileSync(join(dir, '.env'), `# a real-account shape\nDATABASE_URL="${fx.databaseUrl}"\nRECONCILE_CRON="0 3 * * *"\n`);
    const fromFile = status({});
    expect(fromFile.stderr).toBe('');
    expect(fromFile.status).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toHaveProperty('runs');
    const overridden = status({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/other' });
    expect(overridden.status).toBe(2);
    expect(overridden.stderr).toMatch(/DATABASE_URL: cannot reach PostgreSQL at postgresql:\/\/postgres@127\.0\.0\.1:1\/other: nothing answers there/);
  });

  test('ENV_FILE names another file; a missing one stops start-up naming ENV_FILE', () => {
    writeFileSync(join(dir, 'staging.env'), `DATABASE_URL=${fx.databaseUrl}\n`);
    writeFileSync(join(dir, '.env'), 'DATABASE_URL=postgresql://postgres@127.0.0.1:1/ignored\n');
    expect(status({ ENV_FILE: 'staging.env' }).status).toBe(0);
    const missing = status({ ENV_FILE: 'nope.env' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`ENV_FILE: no such file ${join(dir, 'nope.env')}`);
  });
});
