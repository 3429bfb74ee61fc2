import type { Redis } from 'ioredis';
import type { PrismaClient } from './source/db.js';

/**
 * Start-up checks, so a wrong `DATABASE_URL` or `REDIS_URL` stops the process with a message naming the
 * variable instead of hanging while the clients retry in the background.
 */

/** Thrown by {@link checkConnections}; `message` names the variable and what to do. */
export class PreflightError extends Error {
  override readonly name = 'PreflightError';
}

/**
 * Checks that PostgreSQL answers and holds this service's tables (migrated), and that Redis answers, each
 * within `timeoutMs` (default 10 000 ms).
 * @throws {PreflightError} naming `DATABASE_URL` or `REDIS_URL`.
 */
export async function checkConnections(
  deps: { db: PrismaClient; redis: Redis; databaseUrl: string; redisUrl: string },
  timeoutMs = 10_000,
): Promise<void> {
  const [pg, redis] = await Promise.allSettled([
    within(timeoutMs, deps.db.$queryRaw<Array<{ t: string | null }>>`SELECT to_regclass('public.sync_runs')::text AS t`),
    // SELECT again: ioredis reports a bad database index (redis://…/99) only as an event, and PING still answers.
    within(timeoutMs, deps.redis.ping().then(() => deps.redis.select(deps.redis.options.db ?? 0))),
  ]);
  const problems: string[] = [];
  if (pg.status === 'rejected') problems.push(`DATABASE_URL: cannot reach PostgreSQL at ${redact(deps.databaseUrl)}: ${reason(pg.reason)}`);
  else if (!pg.value[0]?.t) problems.push(`DATABASE_URL: ${redact(deps.databaseUrl)} has no chekt-contact-sync tables; run \`npm run db:migrate\` first`);
  if (redis.status === 'rejected') problems.push(`REDIS_URL: cannot reach Redis at ${redact(deps.redisUrl)}: ${reason(redis.reason)}`);
  if (problems.length > 0) throw new PreflightError(problems.join('\n'));
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
