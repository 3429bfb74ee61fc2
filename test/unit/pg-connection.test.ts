import { afterEach, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionConfig } from '../../src/source/pgConnection.js';

/** src/source/pgConnection.ts: a URL's settings, and a password pg asks for only when the server wants one. */

const saved = process.env.PGPASSFILE;
afterEach(() => {
  if (saved === undefined) delete process.env.PGPASSFILE;
  else process.env.PGPASSFILE = saved;
});
const ask = (c: ReturnType<typeof connectionConfig>) => (c.password as () => Promise<string>)();

describe('connectionConfig', () => {
  it("keeps the URL's settings and its password", () => {
    const c = connectionConfig('postgresql://crm_reader:s%40cret@db.example:5433/crm?application_name=x');
    expect(c).toMatchObject({ user: 'crm_reader', password: 's@cret', host: 'db.example', port: 5433, database: 'crm' });
  });

  it("without a password in the URL answers ~/.pgpass's entry when the server asks", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cks-pgpass-'));
    const file = join(dir, 'pgpass');
    writeFileSync(file, 'db.example:5433:crm:crm_reader:from-pgpass\n');
    chmodSync(file, 0o600);
    process.env.PGPASSFILE = file;
    const c = connectionConfig('postgresql://crm_reader@db.example:5433/crm');
    expect(typeof c.password).toBe('function');
    await expect(ask(c)).resolves.toBe('from-pgpass');
  });

  it('without any password answers a random, non-empty one, so the server refuses at once instead of pg hanging', async () => {
    process.env.PGPASSFILE = join(tmpdir(), 'cks-no-such-pgpass');
    const c = connectionConfig('postgresql://crm_reader@db.example:5433/crm');
    const [a, b] = [await ask(c), await ask(c)];
    expect(a).toMatch(/^no-password-[0-9a-f]{24}$/);
    expect(b).not.toBe(a);
  });
});
