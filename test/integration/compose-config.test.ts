import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `docker compose config` on the repository's compose file, as a partner runs it before `up`: what each
 * container would get from a `.env` of a real account's shape. Needs only the compose CLI (no engine); .ci/run
 * installs Compose v2 from Debian. Without it this file is skipped with a notice, and test/unit/compose.test.ts
 * still checks the file's structure.
 */
const hasCompose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;
if (!hasCompose) process.stderr.write('compose-config.test.ts skipped: `docker compose` is not installed\n');

interface Rendered {
  services: Record<string, { environment?: Record<string, string> }>;
}

/** `docker compose config --format json` in a directory holding the compose file and `env` as its .env. */
function render(env: string | null): { rendered: Rendered; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'compose-'));
  try {
    copyFileSync('docker-compose.yml', join(dir, 'docker-compose.yml'));
    if (env !== null) writeFileSync(join(dir, '.env'), env);
    const r = spawnSync('docker', ['compose', 'config', '--format', 'json'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir } });
    if (r.status !== 0) throw new Error(`docker compose config exited ${r.status}: ${r.stderr}`);
    return { rendered: JSON.parse(r.stdout) as Rendered, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

(hasCompose ? describe : describe.skip)('docker compose config', () => {
  it('passes a real account .env to every Node container literally, and keeps the stack on its own database', () => {
    const { rendered, stderr } = render(
      [
        "CHEKT_API_URL='https://api.chekt.com'",
        "CHEKT_CLIENT_ID='partner-123'",
        `CHEKT_CLIENT_SECRET='s3cr$t "with" spaces'`,
        "RECONCILE_CRON='0 3 * * *'",
        "DATABASE_URL='postgresql://crm@10.0.0.5:5432/crm'",
        "VIEWER_PASSWORD='view-only'",
      ].join('\n'),
    );
    expect(stderr).toBe('');
    // `config` prints a file compose can read again, so a literal "$" is written "$$"; the container gets "$".
    const secret = 's3cr$$t "with" spaces';
    const service = rendered.services.service!.environment!;
    expect(service).toMatchObject({
      CHEKT_API_URL: 'https://api.chekt.com',
      CHEKT_CLIENT_ID: 'partner-123',
      CHEKT_CLIENT_SECRET: secret,
      RECONCILE_CRON: '0 3 * * *',
      VIEWER_PASSWORD: 'view-only',
      DATABASE_URL: 'postgresql://postgres:postgres@postgres:5432/chekt_contact_sync',
      REDIS_URL: 'redis://redis:6379',
    });
    expect(rendered.services.migrate!.environment!.DATABASE_URL).toBe('postgresql://postgres:postgres@postgres:5432/chekt_contact_sync');
    expect(rendered.services.sandbox!.environment!.CHEKT_CLIENT_SECRET).toBe(secret);
  });

  it('without a .env, the service talks to the sandbox with the sandbox credentials', () => {
    const { rendered, stderr } = render(null);
    expect(stderr).toBe('');
    expect(rendered.services.service!.environment).toMatchObject({
      CHEKT_API_URL: 'http://sandbox:4010',
      CHEKT_CLIENT_ID: 'sandbox-client',
      CHEKT_CLIENT_SECRET: 'sandbox-secret',
      ADMIN_USER: 'admin',
    });
  });

  it('.env.example copied as it is yields a configuration without warnings', () => {
    const { stderr } = render(readFileSync('.env.example', 'utf8'));
    expect(stderr).toBe('');
  });
});
