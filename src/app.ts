import { setMaxListeners } from 'node:events';
import { Queue, type Worker } from 'bullmq';
import { startAlerter, type Alerter } from './alerts/alerter.js';
import { createMetrics, type Metrics } from './metrics.js';
import { bullmqPrefix, createRedis, redisTargetOf, type RedisClient } from './queue/connection.js';
import { CONTROL_QUEUE, OPERATIONS_QUEUE, type ControlJobData, type OperationJobData } from './queue/jobs.js';
import { registerRecoveryMetrics } from './recovery/metrics.js';
import { createCrmSource } from './source/crm/database.js';
import { createDatabase } from './source/db.js';
import { completeRunsIfDone } from './source/runs.js';
import { unreachableSitesGauge } from './source/reach.js';
import { createRunCompletion } from './sync/runCompletion.js';
import { createChektParts } from './wiring/chekt.js';
import { createPlanDeps, jobOptionsOf } from './wiring/planDeps.js';
import { createScheduler } from './wiring/scheduler.js';
import { closeWorkAndConnections } from './wiring/shutdown.js';
import type { App, CreateAppOptions } from './wiring/types.js';
import { createWorkers } from './wiring/workers.js';

export type { App, AppParts, CreateAppOptions } from './wiring/types.js';

/**
 * The composition root: builds every dependency from the config, starts the parts a process runs
 * (workers, the job scheduler), and stops them in order. Entry points (main.ts, cli/sync.ts, tools) are thin
 * wrappers over it. No module singletons: everything is created here (with the helpers in ./wiring/) and passed
 * down. What the service does lives in sync/ (use cases) and domain/; nothing here decides anything.
 */

/** Builds the application (connections are opened lazily by their clients). */
export function createApp(options: CreateAppOptions): App {
  const { config, logger } = options;
  const now = options.now ?? (() => new Date());
  const redisTarget = redisTargetOf(config);
  const prefix = bullmqPrefix(config.sync.queuePrefix, redisTarget);
  const { prisma: db, sql } = createDatabase({
    databaseUrl: config.databaseUrl,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    preparedStatements: config.dbPreparedStatements,
    schema: config.databaseSchema,
  });
  // As many CRM connections as the service's pool: every operation re-reads its CRM rows while it reads the ledger.
  const crm = createCrmSource({
    databaseUrl: config.crm.databaseUrl,
    relations: config.crm,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    poolSize: 10,
    preparedStatements: config.dbPreparedStatements,
  });
  const redis = createRedis(redisTarget, { blocking: false, logger });
  // Aborted by stop(): from then on no CHeKT request starts, and jobs waiting on CHeKT give their slot back.
  // Every waiting CHeKT call listens on it: WORKER_CONCURRENCY and more at once is expected (Node warns past 10).
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal);
  // The CHeKT parts count into `metrics`, built below with the queues; their hooks run only once the app exists.
  const { rateLimiter, reconcileLimiter, tokens, chekt } = createChektParts({
    config,
    logger,
    redis,
    signal: shutdown.signal,
    metrics: () => metrics,
    ...(options.unlimitedRate ? { unlimitedRate: true } : {}),
  });
  const operationsQueue = new Queue<OperationJobData>(OPERATIONS_QUEUE, { connection: redis, prefix });
  const controlQueue = new Queue<ControlJobData>(CONTROL_QUEUE, { connection: redis, prefix });
  // Connection errors are already logged (throttled) by the connection itself (queue/connection.ts).
  for (const q of [operationsQueue, controlQueue]) q.on('error', () => undefined);
  const jobOptions = jobOptionsOf(config);
  const planDeps = createPlanDeps({ config, db, sql, crm, chekt, operationsQueue, controlQueue, reconcileLimiter, logger, now });
  const rules = planDeps.rules;
  const metrics: Metrics = createMetrics({ db, queues: [operationsQueue, controlQueue], unreachableSites: unreachableSitesGauge({ crm, sql }, rules) });
  const recoveryMetrics = registerRecoveryMetrics(metrics.registry, { redis, prefix });
  const scheduler = createScheduler({ config, logger, db, crm, redis, prefix, controlQueue, operationsQueue, jobOptions, recoveryMetrics });
  const workers: Worker[] = [];
  const workerConnections: RedisClient[] = [];
  const blocking = () => {
    const c = createRedis(redisTarget, { blocking: true, logger });
    workerConnections.push(c);
    return c;
  };
  // Runs left open by a job's finish are checked again after its commit, gathered (sync/runCompletion.ts).
  const runCompletion = createRunCompletion({ complete: (ids) => completeRunsIfDone(db, ids, now()), logger });
  const workerParts = {
    config,
    logger,
    db,
    sql,
    crm,
    redis,
    blocking,
    prefix,
    chekt,
    rules,
    now,
    signal: shutdown.signal,
    operationsQueue,
    jobOptions,
    planDeps,
    metrics,
    recoveryMetrics,
    runCompletion,
  };
  let alerter: Alerter | undefined;
  let stopping = false;
  let stopped: Promise<void> | undefined;

  return {
    config,
    logger,
    db,
    sql,
    crm,
    redis,
    chekt,
    tokens,
    rateLimiter,
    operationsQueue,
    controlQueue,
    planDeps,
    jobOptions,
    metrics,
    workers,
    get stopping() {
      return stopping;
    },
    async startWorkers(opts = {}) {
      workers.push(...createWorkers(workerParts, opts.control ?? true));
      await Promise.all(workers.map((w) => w.waitUntilReady()));
    },
    startScheduler: () => scheduler.start(),
    startAlerts() {
      const webhookUrl = config.alerts.webhookUrl;
      if (webhookUrl && !alerter) alerter = startAlerter({ db, sql, crm, config: { ...config.alerts, webhookUrl }, logger, registry: metrics.registry, phoneRules: rules });
      return alerter;
    },
    async countOperationWorkers() {
      return (await operationsQueue.getWorkers()).length;
    },
    readiness: () => scheduler.readiness(),
    stop(opts = {}) {
      stopping = true;
      shutdown.abort(new Error('stopping'));
      stopped ??= (async () => {
        await scheduler.stop();
        await alerter?.stop();
        const queues = [operationsQueue, controlQueue];
        await closeWorkAndConnections({ workers, queues, redis, workerConnections, db, crm, runCompletion, shutdownTimeoutMs: config.sync.shutdownTimeoutMs, logger }, !!opts.force);
      })();
      return stopped;
    },
  };
}
