import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { RedisClient as Redis } from '../queue/connection.js';
import type { Logger } from '../logger.js';
import { enqueueRecoveryTick } from '../queue/control.js';
import type { ControlJobData, OperationJobData } from '../queue/jobs.js';
import { operationJobs, type OperationJobOptions } from '../queue/producer.js';
import type { PrismaClient } from '../source/db.js';
import { completeRunsIfDone, listQueuedOperations, listStaleRuns } from '../source/runs.js';
import { requeueOrphans } from '../sync/requeue.js';
import { evictionMessage, judgePolicy, readEvictionPolicy, type PolicyVerdict } from './evictionPolicy.js';
import { readSchedulerPresence, upsertSchedulers, type SchedulerPresence, type SchedulerSpec } from '../queue/schedulers.js';

/**
 * The recovery loop of every `npm start` (docs/OPERATIONS-FAULTS.md#the-recovery-loop). Redis holds the queue, which is a cache of
 * work: PostgreSQL holds the truth (the runs' queued operations, the ledger's `pending_since`). Every
 * `RECOVERY_INTERVAL_SECONDS`, and right after each Redis reconnect, each process:
 * 1. reads Redis' `maxmemory-policy` (./evictionPolicy.ts) and logs an error when it may evict;
 * 2. checks that both job schedulers and their next jobs exist; a missing one (Redis restarted empty or
 *    flushed, keys evicted) is logged, upserted again, and a change tick is added at once, which plans every
 *    contact whose change is pending (`sync_ledger.pending_since`) or differs from the ledger;
 * 3. enqueues again the operations of runs still running {@link STALE_RUN_MS} after planning whose jobs are gone
 *    (sync/requeue.ts), without waiting for a tick, and completes those with nothing queued left (their last
 *    completion check was lost with its process, sync/runCompletion.ts). One process per interval does this (a
 *    Redis lock).
 * Nothing here ever writes to CHeKT; it only re-creates jobs with their deterministic ids, so two processes
 * repairing at once still give one job per contact.
 */

/** A run still running this long after planning has its lost jobs enqueued again (as the tick does). */
export const STALE_RUN_MS = 60_000;

/** Options of {@link startWatchdog}. */
export interface WatchdogOptions {
  readonly db: PrismaClient;
  /** The app's non-blocking connection; its `ready` events (reconnects) trigger a check. */
  readonly redis: Redis;
  readonly controlQueue: Queue<ControlJobData>;
  readonly operationsQueue: Queue<OperationJobData>;
  readonly prefix: string;
  readonly spec: SchedulerSpec;
  readonly jobOptions: OperationJobOptions;
  /** Config `REDIS_ALLOW_EVICTION`. */
  readonly allowEviction: boolean;
  /** Config `RECOVERY_INTERVAL_SECONDS` × 1000. */
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Counts each repair: a scheduler upserted again, or a run's lost jobs enqueued again. */
  readonly onRepair?: (what: 'scheduler' | 'orphans', n: number) => void;
  /** Delay between the two looks that confirm a scheduler missing, in ms. Default 500. */
  readonly confirmMs?: number;
}

/** A running recovery loop. */
export interface Watchdog {
  /** One pass of the checks (also what the timer and reconnects run). Never throws. */
  check(): Promise<void>;
  /** The last eviction-policy verdict (undefined before the first read). */
  readonly policy: PolicyVerdict | undefined;
  /** Live presence of the job schedulers (two to four Redis reads). @throws when Redis does not answer. */
  schedulers(): Promise<SchedulerPresence>;
  /** Stops the timer and waits (at most 3 s) for a pass in progress, so nothing touches closed connections. */
  stop(): Promise<void>;
}

/** Starts the loop; the first check runs right away. */
export function startWatchdog(options: WatchdogOptions): Watchdog {
  const log = options.logger.child({ component: 'recovery' });
  let policy: PolicyVerdict | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const checkPolicy = async () => {
    const verdict = judgePolicy(await readEvictionPolicy(options.redis), options.allowEviction);
    const changed = JSON.stringify(verdict) !== JSON.stringify(policy);
    policy = verdict;
    if (!changed) return;
    if (verdict.status === 'evicting') log.error({ policy: verdict.policy }, evictionMessage(verdict.policy));
    else if (verdict.status === 'allowed')
      log.error({ policy: verdict.policy }, `Redis maxmemory-policy is ${verdict.policy}; running anyway because REDIS_ALLOW_EVICTION=true: jobs may be evicted (they are rebuilt from PostgreSQL)`);
    else if (verdict.status === 'unknown') log.warn({ reason: verdict.reason }, 'cannot read Redis maxmemory-policy; make sure it is noeviction');
    else log.info('Redis maxmemory-policy is noeviction');
  };

  const checkSchedulers = async () => {
    const first = await readSchedulerPresence(options.controlQueue);
    if (first.tick === 'ok' && first.reconcile === 'ok') return;
    // A scheduler iteration in progress can look missing for an instant: look twice.
    await new Promise((r) => setTimeout(r, options.confirmMs ?? 500));
    const second = await readSchedulerPresence(options.controlQueue);
    const missing = (['tick', 'reconcile'] as const).filter((k) => first[k] === 'missing' && second[k] === 'missing');
    if (missing.length === 0) return;
    log.error({ missing }, 'job scheduler missing from Redis (restarted empty, flushed or keys evicted); upserting it again and planning every pending change');
    await upsertSchedulers(options.controlQueue, options.spec, log);
    // The tick rebuilds pending work from PostgreSQL; processes noticing together add one tick.
    await enqueueRecoveryTick(options.controlQueue);
    options.onRepair?.('scheduler', missing.length);
  };

  const repairRuns = async () => {
    const lock = `${options.prefix}:sync-control:recovery-lock`;
    const token = randomUUID();
    if ((await options.redis.set(lock, token, 'PX', Math.max(1000, options.intervalMs - 200), 'NX')) !== 'OK') return;
    const stale = await listStaleRuns(options.db, STALE_RUN_MS, new Date());
    // A run whose last operations settled at once, in a process that stopped before its completion check
    // (sync/runCompletion.ts), has nothing queued yet still shows running.
    await completeRunsIfDone(options.db, stale, new Date());
    for (const runId of stale) {
      const n = await requeueOrphans({ listQueued: (id) => listQueuedOperations(options.db, id), jobs: operationJobs(options.operationsQueue, options.jobOptions) }, runId);
      if (n > 0) {
        log.warn({ runId, operations: n }, 'enqueued lost operations of a run again (rebuilt from PostgreSQL)');
        options.onRepair?.('orphans', n);
      }
    }
  };

  const pass = async () => {
    for (const [what, step] of [
      ['eviction policy', checkPolicy],
      ['job schedulers', checkSchedulers],
      ['lost jobs', repairRuns],
    ] as const) {
      if (stopped) return;
      try {
        await step();
      } catch (err) {
        if (!stopped) log.warn({ err, check: what }, 'recovery check failed; trying again next interval');
      }
    }
  };

  const check = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await pass();
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => void check(), options.intervalMs);
  timer.unref();
  const onReady = () => void check();
  options.redis.on('ready', onReady);
  void check();

  return {
    check,
    get policy() {
      return policy;
    },
    schedulers: () => readSchedulerPresence(options.controlQueue),
    async stop() {
      stopped = true;
      clearInterval(timer);
      options.redis.off('ready', onReady);
      if (running) await Promise.race([running, new Promise((r) => setTimeout(r, 3000).unref())]);
    },
  };
}
