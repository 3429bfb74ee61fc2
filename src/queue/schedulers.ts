import type { Queue } from 'bullmq';
import type { Logger } from '../logger.js';
import { RECONCILE_SCHEDULER_ID, TICK_SCHEDULER_ID, type ControlJobData } from './jobs.js';

/**
 * The two job schedulers (change tick every `SYNC_INTERVAL_SECONDS`, reconcile on `RECONCILE_CRON`) as entries in
 * Redis that can vanish (Redis restarted empty, keys evicted) or be changed by another process. Every process
 * upserts them at start-up and whenever the recovery loop (recovery/watchdog.ts) finds one missing; an upsert that
 * changes what is stored is logged, since the last process to upsert wins (docs/OPERATIONS-FAULTS.md).
 */

/** What this process wants the schedulers to be. */
export interface SchedulerSpec {
  /** Change tick interval in ms (`SYNC_INTERVAL_SECONDS` × 1000). */
  readonly tickEveryMs: number;
  /** Reconcile cron pattern, evaluated in UTC (`RECONCILE_CRON`). */
  readonly reconcileCron: string;
}

/** Presence of each job scheduler: `ok`, or `missing` (no scheduler entry, or no next job of it in Redis). */
export interface SchedulerPresence {
  readonly tick: 'ok' | 'missing';
  readonly reconcile: 'ok' | 'missing';
}

const KEEP = { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } };

/**
 * Upserts both job schedulers. Before that it reads what Redis stores, and logs a warning naming both values when
 * another process stored a different tick interval or reconcile pattern (an older deployment restarting sets its
 * own back). Returns the ids of the schedulers that were missing before the upsert.
 * @throws the Redis error when Redis does not answer.
 */
export async function upsertSchedulers(queue: Queue<ControlJobData>, spec: SchedulerSpec, logger: Logger): Promise<string[]> {
  const [tick, reconcile] = await Promise.all([queue.getJobScheduler(TICK_SCHEDULER_ID), queue.getJobScheduler(RECONCILE_SCHEDULER_ID)]);
  if (tick?.every !== undefined && Number(tick.every) !== spec.tickEveryMs) {
    logger.warn(
      { scheduler: TICK_SCHEDULER_ID, storedEverySeconds: Number(tick.every) / 1000, newEverySeconds: spec.tickEveryMs / 1000 },
      'job scheduler interval differs from the one stored in Redis (set by another process); this process sets its own: give every process the same SYNC_INTERVAL_SECONDS',
    );
  }
  if (reconcile?.pattern && reconcile.pattern !== spec.reconcileCron) {
    logger.warn(
      { scheduler: RECONCILE_SCHEDULER_ID, storedPattern: reconcile.pattern, newPattern: spec.reconcileCron },
      'job scheduler pattern differs from the one stored in Redis (set by another process); this process sets its own: give every process the same RECONCILE_CRON',
    );
  }
  await queue.upsertJobScheduler(TICK_SCHEDULER_ID, { every: spec.tickEveryMs }, { name: 'tick', data: { type: 'tick' }, opts: KEEP });
  await queue.upsertJobScheduler(RECONCILE_SCHEDULER_ID, { pattern: spec.reconcileCron, tz: 'UTC' }, { name: 'reconcile', data: { type: 'reconcile' }, opts: KEEP });
  return [...(tick ? [] : [TICK_SCHEDULER_ID]), ...(reconcile ? [] : [RECONCILE_SCHEDULER_ID])];
}

/**
 * Whether each job scheduler exists and has its next job stored (a scheduler whose next job was evicted never
 * fires again). Reads 2 to 4 keys.
 * @throws the Redis error when Redis does not answer.
 */
export async function readSchedulerPresence(queue: Queue<ControlJobData>): Promise<SchedulerPresence> {
  const one = async (id: string): Promise<'ok' | 'missing'> => {
    const s = await queue.getJobScheduler(id);
    if (!s || s.next === undefined || s.next === null) return 'missing';
    const state = await queue.getJobState(`repeat:${id}:${s.next}`);
    return state === 'unknown' ? 'missing' : 'ok';
  };
  const [tick, reconcile] = await Promise.all([one(TICK_SCHEDULER_ID), one(RECONCILE_SCHEDULER_ID)]);
  return { tick, reconcile };
}
