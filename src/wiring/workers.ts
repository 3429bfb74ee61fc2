import { Worker, type Queue } from 'bullmq';
import type { ChektClient } from '../chekt/client.js';
import type { Config } from '../config.js';
import type { NormalizeRules } from '../domain/contact.js';
import type { Logger } from '../logger.js';
import { observeOperationWorker, type Metrics } from '../metrics.js';
import { createBackoffStrategy } from '../queue/backoff.js';
import type { RedisClient } from '../queue/connection.js';
import { createControlProcessor } from '../queue/controlProcessor.js';
import { holdsJobLock } from '../queue/fence.js';
import { createOperationProcessor } from '../queue/operationWorker.js';
import { CONTROL_QUEUE, OPERATIONS_QUEUE, type ControlJobData, type OperationJobData } from '../queue/jobs.js';
import type { OperationJobOptions } from '../queue/producer.js';
import { recordCompletion } from '../recovery/completions.js';
import type { RecoveryMetrics } from '../recovery/metrics.js';
import { guardOperationData, repairDroppedJobs } from '../recovery/unreadableJobs.js';
import type { CrmSource } from '../source/crm/database.js';
import type { PrismaClient, RunSql } from '../source/db.js';
import { createOperationStore } from '../source/operationStore.js';
import type { RunCompletion } from '../sync/runCompletion.js';
import type { ControlDeps } from '../sync/control.js';

/** What {@link createWorkers} builds workers from (the app's parts). */
export interface WorkerParts {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: PrismaClient;
  /** The pool's direct statement runner (source/db.ts `Database.sql`), for the two statements of every operation. */
  readonly sql: RunSql;
  /** The CRM connection every operation re-reads its rows from. */
  readonly crm: CrmSource;
  /** The app's non-blocking connection (job locks, completion stamps). */
  readonly redis: RedisClient;
  /** A new blocking connection per worker (BullMQ workers block on Redis), closed by the app. */
  readonly blocking: () => RedisClient;
  readonly prefix: string;
  readonly chekt: ChektClient;
  readonly rules: NormalizeRules;
  readonly now: () => Date;
  /** Aborted when the app stops. */
  readonly signal: AbortSignal;
  /** Where a finished operation's open runs are checked again (sync/runCompletion.ts). */
  readonly runCompletion: Pick<RunCompletion, 'checkLater'>;
  readonly operationsQueue: Queue<OperationJobData>;
  readonly jobOptions: OperationJobOptions;
  readonly planDeps: ControlDeps;
  readonly metrics: Metrics;
  readonly recoveryMetrics: RecoveryMetrics;
}

/**
 * Builds and starts (`autorun`) this process's workers: the operation worker, and unless `control` is false the
 * control worker (scheduled ticks, notified changes, reconciles and API resyncs). Errors of each are logged.
 */
export function createWorkers(p: WorkerParts, control: boolean): Worker[] {
  const { config, logger, db, redis, prefix, operationsQueue } = p;
  const opsWorker = new Worker<OperationJobData>(
    OPERATIONS_QUEUE,
    // A job whose data Redis lost is dropped before it reads or writes anything, and rebuilt from PostgreSQL.
    guardOperationData(
      createOperationProcessor({
        store: createOperationStore({ db, sql: p.sql, crm: p.crm, rules: p.rules }),
        chekt: (scope) => p.chekt.forScope(scope),
        rules: p.rules,
        now: p.now,
        siteMinContacts: config.sync.siteMinContacts,
        siteMinSmsContacts: config.sync.siteMinSmsContacts,
        logger,
        ownsJob: (job, token) => holdsJobLock(redis, job, token),
        maxRetryAfterMs: config.chekt.maxRetryAfterSeconds * 1000,
        rateLimitQueue: (ms) => operationsQueue.rateLimit(ms),
        signal: p.signal,
        runCompletion: p.runCompletion,
      }),
      logger,
    ),
    {
      connection: p.blocking(),
      prefix,
      concurrency: config.sync.workerConcurrency,
      autorun: true,
      settings: { backoffStrategy: createBackoffStrategy(config.sync.backoffMaxMs) },
      // BullMQ honours queue.rateLimit() (a 429 handed back) only on workers with a limiter; this one never
      // limits by itself (CHeKT's rate limit is chekt/rateLimiter.ts, per HTTP call).
      limiter: { max: Number.MAX_SAFE_INTEGER, duration: 1000 },
    },
  );
  observeOperationWorker(opsWorker, p.metrics);
  repairDroppedJobs(opsWorker, { db, queue: operationsQueue, jobOptions: p.jobOptions, logger, onRepaired: () => p.recoveryMetrics.recoveries.inc({ what: 'dropped_job' }) });
  const workers: Worker[] = [opsWorker];
  if (control) {
    // Several control jobs at once, so a long scheduled reconcile never delays change plans.
    const controlWorker = new Worker<ControlJobData>(CONTROL_QUEUE, createControlProcessor(p.planDeps), { connection: p.blocking(), prefix, concurrency: 4 });
    controlWorker.on('failed', (job, err) => logger.error({ err, jobId: job?.id, type: job?.data.type }, 'control job failed'));
    controlWorker.on('completed', (job) => {
      const type = job.data.type;
      if (type === 'tick' || type === 'reconcile') recordCompletion(redis, prefix, type, new Date()).catch((err: unknown) => logger.warn({ err }, 'cannot record the completion time'));
    });
    workers.push(controlWorker);
  }
  for (const w of workers) {
    w.on('error', (err) => {
      // A worker that lost a job's lock (fenced out, queue/fence.ts) cannot settle it: expected, not an error.
      if (/\b(Missing lock|Lock mismatch)\b/.test(err.message)) logger.warn({ err: { message: err.message }, queue: w.name }, 'job settled by another worker');
      else logger.error({ err, queue: w.name }, 'worker error');
    });
  }
  return workers;
}
