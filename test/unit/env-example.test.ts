import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  it('every value is double-quoted, and each variable appears once', () => {
    for (const line of assignments) expect(line).toMatch(/^[A-Z][A-Z0-9_]*="[^"$`\\]*"$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it('lists every variable the config reads', () => {
    expect(CONFIG_VARIABLES.filter((v) => !names.includes(v))).toEqual([]);
  });

  it('every variable it lists is described in docs/CONFIGURATION.md', () => {
    const reference = readFileSync('docs/CONFIGURATION.md', 'utf8');
    expect(names.filter((v) => !reference.includes(`| \`${v}\` |`))).toEqual([]);
  });

  it('a shell that sources it and Node\'s env-file parser read the same values', () => {
    const script = `set -a; . ./.env.example; for n in ${names.join(' ')}; do printf '%s=%s\\0' "$n" "\${!n}"; done`;
    // No rc files (Debian's bash may read ~/.bashrc when its input is not a terminal): only the file under test.
    const out = execFileSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: tmpdir() } });
    const fromShell = Object.fromEntries(out.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const fromNode = parseEnv(text);
    expect(fromShell).toEqual(fromNode);
    expect(fromNode.RECONCILE_CRON).toBe('0 3 * * *');
  });

  it('with a client id and secret filled in, the service configuration loads from it', () => {
    const env = { ...parseEnv(text), CHEKT_CLIENT_ID: 'client-1', CHEKT_CLIENT_SECRET: 's3cret' };
    const config = loadConfig(env);
    expect(config.sync.reconcileCron).toBe('0 3 * * *');
    expect(config.redisCluster).toBeUndefined();
  });
});
