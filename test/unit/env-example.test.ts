import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';

/**
 * .env.example is the file partners copy to .env: it must mean the same to `set -a; source .env` (a shell),
 * `node --env-file` / process.loadEnvFile (what every entry point reads, config.ts loadEnvFile) and compose's
 * env_file, and list every variable the service reads.
 */
const text = readFileSync('.env.example', 'utf8');
const assignments = text.split('\n').filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l));
const names = assignments.map((l) => l.slice(0, l.indexOf('=')));

describe('.env.example', () => {
  it('every value is in single quotes, and each variable appears once', () => {
    for (const line of assignments) expect(line).toMatch(/^[A-Z][A-Z0-9_]*='[^'$`\\]*'$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it('lists every variable the config reads', () => {
    expect(CONFIG_VARIABLES.filter((v) => !names.includes(v))).toEqual([]);
  });

  it('every variable it lists is described in docs/CONFIGURATION.md', () => {
    const reference = readFileSync('docs/CONFIGURATION.md', 'utf8');
    expect(names.filter((v) => !reference.includes(`| \`${v}\` |`))).toEqual([]);
  });

  /** What `set -a; source <file>` gives for `vars`, read back NUL-separated. */
  function sourced(file: string, vars: readonly string[]): Record<string, string> {
    const script = `set -a; . ${file}; for n in ${vars.join(' ')}; do printf '%s=%s\\0' "$n" "\${!n}"; done`;
    // No rc files (Debian's bash may read ~/.bashrc when its input is not a terminal): only the file under test.
    const out = execFileSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: tmpdir() } });
    return Object.fromEntries(
      out
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
  }

  it("a shell that sources it and Node's env-file parser read the same values", () => {
    const fromNode = parseEnv(text);
    expect(sourced('./.env.example', names)).toEqual(fromNode);
    expect(fromNode.RECONCILE_CRON).toBe('0 3 * * *');
  });

  it('a secret holding $, spaces and double quotes, written in single quotes as the file asks, reads the same in both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-'));
    const file = join(dir, '.env');
    writeFileSync(file, `CHEKT_CLIENT_SECRET='s3cr$t "with" spaces'\nRECONCILE_CRON='0 3 * * *'\n`);
    const fromNode = parseEnv(readFileSync(file, 'utf8'));
    expect(fromNode).toEqual({ CHEKT_CLIENT_SECRET: 's3cr$t "with" spaces', RECONCILE_CRON: '0 3 * * *' });
    expect(sourced(file, ['CHEKT_CLIENT_SECRET', 'RECONCILE_CRON'])).toEqual(fromNode);
    rmSync(dir, { recursive: true, force: true });
  });

  it('with a client id and secret filled in, the service configuration loads from it', () => {
    const env = { ...parseEnv(text), CHEKT_CLIENT_ID: 'client-1', CHEKT_CLIENT_SECRET: 's3cret' };
    const config = loadConfig(env);
    expect(config.sync.reconcileCron).toBe('0 3 * * *');
    expect(config.redisCluster).toBeUndefined();
  });
});
