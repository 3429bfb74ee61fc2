import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import pgpass from 'pgpass';

/**
 * node-postgres settings for a `postgresql://` URL, for every pool and client of the service (the state database,
 * the CRM, the listener, the migrator).
 *
 * Why not pg's own `connectionString`: when the URL carries no password and ~/.pgpass has none, pg 8 meets a
 * server asking for one (SCRAM) by throwing inside its socket handler ("client password must be a string"), and
 * leaves the socket open until the server's `authentication_timeout` (60 s by default) closes it: the command
 * that failed then hangs a minute before it exits. Here the password is a function pg calls only when the server
 * asks: the URL's, else ~/.pgpass's entry (pg's own fallback), else a random one (pg refuses an empty one the same
 * way; SCRAM sends only a proof, never the password), which the server refuses at once (SQLSTATE 28P01, "password
 * authentication failed"), and every caller names its variable for that.
 */
export function connectionConfig(url: string): pg.ClientConfig {
  const parsed = parseIntoClientConfig(url);
  if (typeof parsed.password === 'string' && parsed.password !== '') return parsed;
  return {
    ...parsed,
    password: () =>
      new Promise<string>((resolve) => {
        pgpass({ host: parsed.host ?? undefined, port: parsed.port ?? undefined, database: parsed.database ?? undefined, user: parsed.user ?? undefined }, (pass) =>
          resolve(pass ?? `no-password-${randomBytes(12).toString('hex')}`),
        );
      }),
  };
}
