import { Redis } from 'ioredis';
import type { Config } from './config.js';
import { describeRedisError, describeRedisTarget, redisTargetOf, type RedisClient } from './queue/connection.js';
import type { PrismaClient } from './source/db.js';

/**
 * Start-up checks, so a wrong `DATABASE_URL`, `REDIS_URL` or `REDIS_CLUSTER_NODES` stops the process with a
 * message naming the variable and where it points (never a password) instead of hanging while the clients
 * retry in the background. Library wording is translated (docs/CONFIGURATION.md "Start-up errors").
 */

/** Thrown by {@link checkConnections}; `message` names the variable and what to do. */
export class PreflightError extends Error {
  override readonly name = 'PreflightError';
}

/**
 * Checks that PostgreSQL answers and holds this service's tables (migrated), and that Redis (one server or the
 * cluster) answers, each within `timeoutMs` (default 10 000 ms).
 * @throws {PreflightError} naming `DATABASE_URL`, `REDIS_URL` or `REDIS_CLUSTER_NODES`, one line each.
 */
export async function checkConnections(
  deps: { readonly db: PrismaClient; readonly redis: RedisClient; readonly config: Pick<Config, 'databaseUrl' | 'redisUrl' | 'redisCluster'> },
  timeoutMs = 10_000,
): Promise<void> {
  const { db, redis: client, config } = deps;
  const [pg, redis] = await Promise.allSettled([
    within(timeoutMs, db.$queryRaw<Array<{ t: string | null }>>`SELECT to_regclass('public.sync_runs')::text AS t`),
    // SELECT again: ioredis reports a bad database index (redis://…/99) only as an event, and PING still answers.
    // A cluster has database 0 only (no SELECT).
    within(timeoutMs, client.ping().then(() => (client instanceof Redis ? client.select(client.options.db ?? 0) : 'OK'))),
  ]);
  const problems: string[] = [];
  if (pg.status === 'rejected') problems.push(`DATABASE_URL: cannot reach PostgreSQL at ${redact(config.databaseUrl)}: ${describeDatabaseError(pg.reason)}`);
  else if (!pg.value[0]?.t) problems.push(`DATABASE_URL: ${redact(config.databaseUrl)} has no chekt-contact-sync tables; run \`npm run db:migrate\` first`);
  if (redis.status === 'rejected') {
    const { variable, where } = describeRedisTarget(redisTargetOf(config));
    problems.push(`${variable}: cannot reach Redis at ${where}: ${describeRedisError(redis.reason, client)}`);
  }
  if (problems.length > 0) throw new PreflightError(problems.join('\n'));
}

/**
 * A PostgreSQL connection error in words a partner understands, from Prisma's driver-adapter error (its
 * "Raw query failed. Code: `3D000`. Message: …" wording) or from `pg` itself.
 */
export function describeDatabaseError(err: unknown): string {
  const e = err as { code?: string; message?: string; meta?: { driverAdapterError?: { cause?: { kind?: string; originalCode?: string; originalMessage?: string; host?: string; port?: number; db?: string } } } } | null;
  const cause = e?.meta?.driverAdapterError?.cause;
  const code = cause?.originalCode ?? e?.code;
  const message = cause?.originalMessage ?? e?.message ?? String(err);
  if (cause?.kind === 'DatabaseNotReachable') return 'nothing answers there (server down, wrong host or port, or a firewall)';
  if (cause?.kind === 'DatabaseDoesNotExist' || code === '3D000') return `${message}; \`npm run db:migrate\` creates it and its tables`;
  if (cause?.kind === 'DatabaseAccessDenied' || code === '28P01' || code === '28000') return `${message}; check the user and password in DATABASE_URL`;
  if (code === 'ECONNREFUSED') return 'connection refused (nothing listens on that host and port)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host (DNS cannot resolve it)';
  if (code === 'ETIMEDOUT' || /connection timeout|no answer within/i.test(message)) return /no answer within/.test(message) ? message : 'connection timed out (a firewall, or the wrong host)';
  return reason(message.replace(/Raw query failed\. Code: `[^`]*`\. Message: `([^`]*)`/, '$1'));
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
  return msg.split('\n').map((l) => l.trim()).filter(Boolean).slice(-1)[0]?.slice(0, 300) ?? 'unknown error';
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
 * @throws {PreflightError} when the credentials are rejected; the token error itself when CHeKT cannot be reached.
 */
export async function checkCredentials(tokens: { getToken(): Promise<string> }, tokenUrl: string, mode: string): Promise<void> {
  try {
    await tokens.getToken();
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 400 || status === 401 || status === 403) {
      const vars = mode === 'client_secret' ? 'CHEKT_CLIENT_ID / CHEKT_CLIENT_SECRET' : 'CHEKT_CLIENT_ID / CHEKT_PRIVATE_KEY_FILE / CHEKT_KEY_ID / CHEKT_AUDIENCE';
      throw new PreflightError(`${vars}: rejected by the token endpoint ${tokenUrl} (${(err as Error).message})`);
    }
    throw err;
  }
}
