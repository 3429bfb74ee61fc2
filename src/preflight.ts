import { Redis } from 'ioredis';
import { networkCode } from './chekt/http.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { describeRedisError, describeRedisTarget, probeClusterSeed, redisTargetOf, type RedisClient } from './queue/connection.js';
import { CrmContractError, type CrmSource } from './source/crm/database.js';
import { checkCrmContract } from './source/crm/startupCheck.js';
import type { PrismaClient } from './source/db.js';

/**
 * Start-up checks, so a wrong `DATABASE_URL`, `CRM_DATABASE_URL`, `REDIS_URL` or `REDIS_CLUSTER_NODES` stops the process with a
 * message naming the variable and where it points (never a password) instead of hanging while the clients
 * retry in the background. Library wording is translated (docs/CONFIGURATION.md "Start-up errors").
 */

/** Thrown by {@link checkConnections}; `message` names the variable and what to do. */
export class PreflightError extends Error {
  override readonly name = 'PreflightError';
  /**
   * True when the target is right but does not answer now (CHeKT refusing connections or timing out): the
   * service starts anyway and retries; the CLI still stops (exit 2). Default false.
   */
  readonly transient: boolean;
  constructor(message: string, options: { transient?: boolean } = {}) {
    super(message);
    this.transient = options.transient ?? false;
  }
}

/**
 * Checks that PostgreSQL answers and holds this service's tables (migrated), that Redis (one server or the
 * cluster) answers, and, given `crm`, that the CRM answers and its source contract holds
 * (source/crm/startupCheck.ts: its warnings go to `logger`), each within `timeoutMs` (default 10 000 ms).
 * @throws {PreflightError} naming `DATABASE_URL`, `REDIS_URL` or `REDIS_CLUSTER_NODES`, `CRM_DATABASE_URL`, or the
 *   contract's relation, column, privilege and role, one line each.
 */
export async function checkConnections(
  deps: {
    readonly db: PrismaClient;
    readonly redis: RedisClient;
    readonly config: Pick<Config, 'databaseUrl' | 'redisUrl' | 'redisCluster' | 'crm'>;
    readonly crm?: Pick<CrmSource, 'inspect'>;
    readonly logger?: Pick<Logger, 'warn'>;
  },
  timeoutMs = 10_000,
): Promise<void> {
  const { db, redis: client, config } = deps;
  const target = redisTargetOf(config);
  // On a cluster, one plain connection to the first seed says at once why it does not serve (ioredis' Cluster
  // would only keep retrying until the timeout).
  const seedProblem = typeof target === 'string' ? undefined : probeClusterSeed(target);
  const seedFailed = new Promise<never>((_, reject) => void seedProblem?.then((p) => p && reject(new Error(p))));
  const [pg, redis, crm] = await Promise.allSettled([
    checkStateDatabase(db, config.databaseUrl, timeoutMs),
    // SELECT again: ioredis reports a bad database index (redis://…/99) only as an event, and PING still answers.
    // A cluster has database 0 only (no SELECT).
    within(timeoutMs, Promise.race([client.ping().then(() => (client instanceof Redis ? client.select(client.options.db ?? 0) : 'OK')), seedFailed])),
    // The service's own role (CRM_DATABASE_URL unset) must write its tables: its privileges are no warning.
    deps.crm ? within(timeoutMs, checkCrmContract(deps.crm, deps.logger ?? { warn: () => undefined }, { serviceRole: config.crm.databaseUrl === config.databaseUrl })) : undefined,
  ]);
  const problems: string[] = [];
  if (pg.status === 'fulfilled' && pg.value) problems.push(pg.value);
  if (crm.status === 'rejected') {
    // CRM_DATABASE_URL defaults to DATABASE_URL: the same server refusing is said once, and in an unmigrated
    // database (where the built-in sites and contacts tables are missing too) the migration comes first.
    const sameUrl = config.crm.databaseUrl === config.databaseUrl;
    if (!(sameUrl && problems.length > 0)) {
      problems.push(describeCrmFailure(crm.reason, sameUrl ? 'CRM_DATABASE_URL (default: DATABASE_URL)' : 'CRM_DATABASE_URL', config.crm.databaseUrl));
    }
  }
  if (redis.status === 'rejected') {
    const { variable, where } = describeRedisTarget(target);
    const why = (await seedProblem) ?? describeRedisError(redis.reason, client);
    problems.push(`${variable}: cannot reach Redis at ${where}: ${why}`);
  }
  if (problems.length > 0) throw new PreflightError(problems.join('\n'));
}

/**
 * A failed start-up check of the CRM in one line: the contract's problems (a {@link CrmContractError}), or the
 * connection error naming `variable` and where it points, the password hidden.
 */
export function describeCrmFailure(err: unknown, variable: string, databaseUrl: string): string {
  if (err instanceof CrmContractError) return err.message;
  return `${variable}: cannot reach the CRM's PostgreSQL at ${redact(databaseUrl)}: ${describeDatabaseError(err, variable.split(' ')[0])}`;
}

/**
 * A PostgreSQL connection error in words a partner understands, from Prisma's driver-adapter error (its
 * "Raw query failed. Code: `3D000`. Message: …" wording) or from `pg` itself. `variable` names the URL in the
 * advice (default `DATABASE_URL`, the only one `npm run db:migrate` creates a database for).
 */
export function describeDatabaseError(err: unknown, variable = 'DATABASE_URL'): string {
  const e = err as {
    code?: string;
    message?: string;
    meta?: { driverAdapterError?: { cause?: { kind?: string; originalCode?: string; originalMessage?: string; host?: string; port?: number; db?: string } } };
  } | null;
  const cause = e?.meta?.driverAdapterError?.cause;
  const code = cause?.originalCode ?? e?.code;
  const message = cause?.originalMessage ?? e?.message ?? String(err);
  if (cause?.kind === 'DatabaseNotReachable') return 'nothing answers there (server down, wrong host or port, or a firewall)';
  if (cause?.kind === 'DatabaseDoesNotExist' || code === '3D000')
    return variable === 'DATABASE_URL' ? `${message}; \`npm run db:migrate\` creates it and its tables` : `${message}; check the database name in ${variable}`;
  if (cause?.kind === 'DatabaseAccessDenied' || code === '28P01' || code === '28000') return `${message}; check the user and password in ${variable}`;
  if (code === 'ECONNREFUSED') return 'connection refused (nothing listens on that host and port)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host (DNS cannot resolve it)';
  if (code === 'ETIMEDOUT' || /connection timeout|no answer within/i.test(message)) return /no answer within/.test(message) ? message : 'connection timed out (a firewall, or the wrong host)';
  return reason(message.replace(/Raw query failed\. Code: `[^`]*`\. Message: `([^`]*)`/, '$1'));
}

/**
 * Null when PostgreSQL answers within `timeoutMs` and holds this service's tables (looked up on the session's
 * search_path, so in `DATABASE_SCHEMA`); else the problem, naming `DATABASE_URL` and its target without the
 * password. Never throws.
 */
export async function checkStateDatabase(db: Pick<PrismaClient, '$queryRaw'>, databaseUrl: string, timeoutMs = 10_000): Promise<string | null> {
  try {
    const rows = await within(timeoutMs, db.$queryRaw<Array<{ t: string | null }>>`SELECT to_regclass('sync_runs')::text AS t`);
    return rows[0]?.t ? null : `DATABASE_URL: ${redact(databaseUrl)} has no chekt-contact-sync tables; run \`npm run db:migrate\` first`;
  } catch (err) {
    return `DATABASE_URL: cannot reach PostgreSQL at ${redact(databaseUrl)}: ${describeDatabaseError(err)}`;
  }
}

function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function reason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (!msg.trim()) return (err as { code?: string }).code ?? 'unknown error';
  return (
    msg
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-1)[0]
      ?.slice(0, 300) ?? 'unknown error'
  );
}

/** A connection URL with its password hidden. */
export function redact(u: string): string {
  try {
    const url = new URL(u);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Asks the token endpoint for a token (cached for the run). Rejected credentials (400/401/403) are a
 * configuration error: they fail every call, so the run stops before planning with a message naming them.
 * So is a URL that is not a token endpoint (404, 405, an answer without `access_token`) or a host that does not
 * resolve: the message names `CHEKT_TOKEN_URL`, or `CHEKT_API_URL` when the token URL is derived from it
 * (`apiUrl` given and `tokenUrl` = `<apiUrl>/oauth/token`).
 * @throws {PreflightError} for each case above, and with `transient` when the endpoint refuses connections or
 *   times out; other errors (a 5xx or 429 answer included) as thrown by the token provider.
 */
export async function checkCredentials(tokens: { getToken(): Promise<string> }, tokenUrl: string, mode: string, apiUrl?: string): Promise<void> {
  try {
    await tokens.getToken();
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 400 || status === 401 || status === 403) {
      const vars = mode === 'client_secret' ? 'CHEKT_CLIENT_ID / CHEKT_CLIENT_SECRET' : 'CHEKT_CLIENT_ID / CHEKT_PRIVATE_KEY_FILE / CHEKT_KEY_ID / CHEKT_AUDIENCE';
      throw new PreflightError(`${vars}: rejected by the token endpoint ${tokenUrl} (${(err as Error).message})`);
    }
    const variable = apiUrl !== undefined && tokenUrl === `${apiUrl}/oauth/token` ? `CHEKT_API_URL (token endpoint ${tokenUrl})` : `CHEKT_TOKEN_URL (${tokenUrl})`;
    const unreachable = tokenEndpointProblem(err);
    if (unreachable) throw new PreflightError(`${variable}: ${unreachable.text}`, { transient: unreachable.transient });
    throw err;
  }
}

/** The message of the deepest `cause` (fetch's own "fetch failed" says nothing; its cause, e.g. "bad port", does). */
function innermostMessage(e: unknown): string {
  let message = 'network error';
  for (let cur = e, depth = 0; depth < 5 && typeof cur === 'object' && cur !== null; depth++, cur = (cur as { cause?: unknown }).cause) {
    const m = (cur as { message?: unknown }).message;
    if (typeof m === 'string' && m) message = m;
  }
  return message;
}

/** What went wrong reaching the token endpoint, in words, or undefined for other errors. */
function tokenEndpointProblem(err: unknown): { text: string; transient: boolean } | undefined {
  const e = err as { status?: number; code?: string; detail?: string; cause?: unknown } | null;
  const status = e?.status;
  // The token provider files socket failures under `network_error`; the system's code is in the cause chain.
  const code = e?.code === 'network_error' ? (networkCode(e.cause) ?? e.code) : e?.code;
  if (status === 404 || status === 405 || (status !== undefined && status >= 200 && status < 300)) {
    const what = status < 300 ? 'answered without an access_token' : `answered HTTP ${status}`;
    return { text: `not a token endpoint: it ${what}. Use the token URL CHeKT gave you (CHEKT_TOKEN_URL), or leave it empty for <CHEKT_API_URL>/oauth/token`, transient: false };
  }
  // A 5xx or 429 is CHeKT failing, not a wrong setting: the token error itself goes on (the CLI exits 1).
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { text: 'unknown host (DNS cannot resolve it): check the URL', transient: false };
    case 'ECONNREFUSED':
      return { text: 'connection refused (nothing listens on that host and port)', transient: true };
    case 'timeout':
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { text: `no answer (${e?.detail ?? 'timed out'}): a firewall, a proxy, or CHeKT is down`, transient: true };
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return { text: `TLS certificate not accepted (${code}): check the host name`, transient: false };
  }
  if (code !== undefined && /^(E[A-Z]+|UND_ERR_\w+|network_error)$/.test(code)) return { text: `cannot connect (${code === 'network_error' ? innermostMessage(e?.cause) : code})`, transient: true };
  return undefined;
}
