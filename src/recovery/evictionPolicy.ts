import type { RedisClient as Redis } from '../queue/connection.js';
import type { Logger } from '../logger.js';
import { PreflightError } from '../preflight.js';

/**
 * Redis' `maxmemory-policy`. BullMQ keeps the queues, the job schedulers and the job data in Redis: any policy but
 * `noeviction` lets Redis delete them under memory pressure (BullMQ's "going to production" guide asks for
 * `noeviction`). Managed Redis services often refuse `CONFIG`; `INFO memory` (which carries `maxmemory_policy`
 * since Redis 4) is tried next, and when both are refused the policy is `unknown`: a warning, never a crash.
 * docs/OPERATIONS-FAULTS.md, "Redis that may evict".
 */

/** What was read: the policy name, or `unknown` with the reason it could not be read. */
export type EvictionPolicy = { readonly policy: string; readonly source: 'config' | 'info' } | { readonly policy: 'unknown'; readonly reason: string };

/** The one policy under which Redis never deletes a key on its own. */
export const SAFE_POLICY = 'noeviction';

/** Reads the policy: `CONFIG GET maxmemory-policy`, else `INFO memory`. Never throws for a refused command. */
export async function readEvictionPolicy(redis: Redis): Promise<EvictionPolicy> {
  let configError: string;
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as unknown;
    const value = Array.isArray(reply) ? reply[1] : undefined;
    if (typeof value === 'string' && value !== '') return { policy: value, source: 'config' };
    configError = 'CONFIG GET returned no value';
  } catch (err) {
    configError = `CONFIG GET refused: ${(err as Error).message}`;
  }
  try {
    const info = await redis.info('memory');
    const m = /^maxmemory_policy:(\S+)/m.exec(info);
    if (m) return { policy: m[1]!, source: 'info' };
    return { policy: 'unknown', reason: `${configError}; INFO memory has no maxmemory_policy` };
  } catch (err) {
    return { policy: 'unknown', reason: `${configError}; INFO refused: ${(err as Error).message}` };
  }
}

/** How a policy is judged for readiness and start-up. */
export type PolicyVerdict =
  /** `noeviction`. */
  | { readonly status: 'ok' }
  /** It could not be read: start, warn (the operator must make sure). */
  | { readonly status: 'unknown'; readonly reason: string }
  /** Eviction possible and `REDIS_ALLOW_EVICTION` not set: refuse to start, fail readiness. */
  | { readonly status: 'evicting'; readonly policy: string }
  /** Eviction possible, allowed by `REDIS_ALLOW_EVICTION=true`: start, log an error, stay ready. */
  | { readonly status: 'allowed'; readonly policy: string };

/** Judges a policy read by {@link readEvictionPolicy}; `allowEviction` is config `REDIS_ALLOW_EVICTION`. */
export function judgePolicy(read: EvictionPolicy, allowEviction: boolean): PolicyVerdict {
  if (read.policy === 'unknown') return { status: 'unknown', reason: 'reason' in read ? read.reason : 'unknown' };
  if (read.policy === SAFE_POLICY) return { status: 'ok' };
  return allowEviction ? { status: 'allowed', policy: read.policy } : { status: 'evicting', policy: read.policy };
}

/** The message of a policy that may evict keys, naming the variables involved. */
export function evictionMessage(policy: string): string {
  return `REDIS_URL: Redis maxmemory-policy is ${policy}: under memory pressure Redis may delete queued jobs and the job schedulers. Set \`maxmemory-policy noeviction\` (with AOF persistence), or set REDIS_ALLOW_EVICTION=true to run anyway`;
}

/**
 * The start-up check of `npm start` and `npm run sync`: reads the policy and logs it. A policy that may evict stops
 * start-up unless `allowEviction` (`REDIS_ALLOW_EVICTION=true`), when it is logged as an error instead; a policy
 * that cannot be read (managed Redis refusing `CONFIG` and `INFO`) is a warning.
 * @throws {PreflightError} naming `REDIS_URL` and `REDIS_ALLOW_EVICTION` when Redis may evict and that is not allowed.
 */
export async function checkEvictionPolicy(redis: Redis, allowEviction: boolean, logger: Logger): Promise<PolicyVerdict> {
  const verdict = judgePolicy(await readEvictionPolicy(redis), allowEviction);
  if (verdict.status === 'evicting') {
    logger.error({ policy: verdict.policy }, evictionMessage(verdict.policy));
    throw new PreflightError(evictionMessage(verdict.policy));
  }
  if (verdict.status === 'allowed')
    logger.error({ policy: verdict.policy }, `Redis maxmemory-policy is ${verdict.policy}; running anyway because REDIS_ALLOW_EVICTION=true: jobs may be evicted (they are rebuilt from PostgreSQL)`);
  if (verdict.status === 'unknown') logger.warn({ reason: verdict.reason }, 'cannot read Redis maxmemory-policy; make sure it is noeviction');
  return verdict;
}
