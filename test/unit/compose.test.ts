import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * docker-compose.yml cannot run here (no Docker engine), so its promises are checked on the file itself
 * (js-yaml, already installed with jest): every Node container gets all of .env through env_file, and the
 * databases publish no port on the host (a workstation's own PostgreSQL and Redis keep 5432 and 6379).
 */
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };
interface Service {
  build?: unknown;
  image?: string;
  ports?: string[];
  env_file?: Array<{ path: string; required: boolean }>;
  environment?: Record<string, string>;
  command?: string[];
}
const compose = yaml.load(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Service> };

describe('docker-compose.yml', () => {
  it('every container built from the image reads .env (optional) through env_file', () => {
    const app = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
    expect(app.map(([name]) => name).sort()).toEqual(['migrate', 'sandbox', 'service']);
    for (const [, s] of app) expect(s.env_file).toEqual([{ path: '.env', required: false }]);
  });

  it('PostgreSQL and Redis publish no host port; the service only on 127.0.0.1', () => {
    expect(compose.services.postgres!.ports).toBeUndefined();
    expect(compose.services.redis!.ports).toBeUndefined();
    expect(compose.services.service!.ports).toEqual(['127.0.0.1:3000:3000']);
  });

  it('Redis runs with AOF and noeviction; the Node containers run the compiled build', () => {
    expect(compose.services.redis!.command).toEqual(['redis-server', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction']);
    expect(compose.services.sandbox!.command).toEqual(['node', 'dist/sandbox/main.js']);
    expect(compose.services.migrate!.command).toEqual(['node', 'dist/db/cli.js']);
  });
});
