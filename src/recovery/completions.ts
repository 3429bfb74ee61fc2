import type { RedisClient as Redis } from '../queue/connection.js';

/**
 * When the scheduled runs last completed, for the `chekt_sync_last_*_timestamp_seconds` gauges (./metrics.ts):
 * one Redis key per kind under the queue prefix, written by the control worker when a job scheduler's job
 * completes (queue/schedulers.ts has the job schedulers).
 */

/** Scheduled runs whose completion time is kept for the `chekt_sync_last_*_timestamp_seconds` gauges. */
export type ScheduledKind = 'tick' | 'reconcile';

/** Redis key of a completion stamp, under the queue prefix (one key each: no multi-key command, cluster-safe). */
export function completionKey(prefix: string, kind: ScheduledKind): string {
  return `${prefix}:sync-control:last-completed:${kind}`;
}

/** Records that a scheduled change tick or reconcile completed at `at` (kept as unix ms, never lowered). */
export async function recordCompletion(redis: Redis, prefix: string, kind: ScheduledKind, at: Date): Promise<void> {
  // Keep the later value: two processes finishing close together must not move the stamp back.
  await redis.eval(
    "local v = tonumber(redis.call('GET', KEYS[1]) or '0') if tonumber(ARGV[1]) > v then redis.call('SET', KEYS[1], ARGV[1]) end return 1",
    1,
    completionKey(prefix, kind),
    String(at.getTime()),
  );
}

/** When a scheduled change tick or reconcile last completed, in unix seconds; 0 when never (or Redis lost it). */
export async function readCompletion(redis: Redis, prefix: string, kind: ScheduledKind): Promise<number> {
  const v = await redis.get(completionKey(prefix, kind));
  return v ? Number(v) / 1000 : 0;
}
