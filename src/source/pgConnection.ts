import { randomBytes } from 'node:crypto';
import pg from 'pg';
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

/** Settings of {@link createPool}. Times are in ms. */
export interface PoolOptions {
  readonly databaseUrl: string;
  /** Connections in the pool. */
  readonly max: number;
  /** Longest wait for a connection. Default 10,000. */
  readonly connectionTimeoutMs?: number | undefined;
  /** PostgreSQL `statement_timeout` of every session (0 or absent: none). */
  readonly statementTimeoutMs?: number | undefined;
  /** More libpq `options` for every session (e.g. ` -c search_path=…`, with its leading space). Default none. */
  readonly extraOptions?: string;
}

/**
 * A node-postgres pool over {@link connectionConfig}, for the service's database and the CRM's: every session in
 * UTC (adapter-pg shifts timestamptz values otherwise, docs/PLATFORM.md#postgresql-driver), with the statement
 * timeout, giving up on a connection after `connectionTimeoutMs`. An idle client's error (PostgreSQL restarted, its
 * backend terminated) must not crash the process, whoever uses the pool first: the pool listens for it, and the
 * next statement reconnects.
 */
export function createPool(options: PoolOptions): pg.Pool {
  const timeout = options.statementTimeoutMs ? ` -c statement_timeout=${options.statementTimeoutMs}` : '';
  const pool = new pg.Pool({
    ...connectionConfig(options.databaseUrl),
    max: options.max,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    options: `-c TimeZone=UTC${timeout}${options.extraOptions ?? ''}`,
  });
  pool.on('error', () => {});
  return pool;
}
