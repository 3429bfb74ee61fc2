import { createHash, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker, type Job } from 'bullmq';
import { startAlerter, type Alerter } from './alerts/alerter.js';
import { createChektClient, type ChektClient } from './chekt/client.js';
import { createRedisRateLimiter, createUnlimitedRateLimiter, type RateLimiter } from './chekt/rateLimiter.js';
import { TokenProvider } from './chekt/token.js';
import type { Config } from './config.js';
import type { NormalizeRules } from './domain/contact.js';
import type { Logger } from './logger.js';
import { createMetrics, observeOperationWorker, type Metrics } from './metrics.js';
import { createBackoffStrategy } from './queue/backoff.js';
import { bullmqPrefix, createRedis, redisTargetOf, type RedisClient } from './queue/connection.js';
import { holdsJobLock } from './queue/fence.js';
import { CONTROL_QUEUE, OPERATIONS_QUEUE, type ControlJobData, type OperationJobData } from './queue/jobs.js';
import { registerRecoveryMetrics } from './recovery/metrics.js';
import { recordCompletion, upsertSchedulers } from './recovery/schedulers.js';
import { guardOperationData, repairDroppedJobs } from './recovery/unreadableJobs.js';
import { startWatchdog, type Watchdog } from './recovery/watchdog.js';
import { createPrisma, type PrismaClient } from './source/db.js';
import { listStaleRuns } from './source/runs.js';
import { guardWrite, recordCall } from './sync/callContext.js';
import { createOperationProcessor } from './sync/operationProcessor.js';
import { listenForChanges, type ChangeListener } from './sync/notifications.js';
import { planRun, type PlanRunDeps } from './sync/planRun.js';
import { requeueOrphans } from './sync/requeue.js';
import { unreachableSitesGauge } from './source/reach.js';
import { parseSiteKey } from './domain/site.js';

/**
 * The composition root: builds every dependency from the config, starts the parts a process runs
 * (workers, the job scheduler), and stops them in order. Entry points (main.ts, cli/sync.ts, demo) are thin
 * wrappers over it. No module singletons: everything is created here and passed down.
 */

/** Which parts this process runs. */
export interface AppParts {
  /** Operation and control workers. */
  readonly workers: boolean;
  /** The job scheduler that ticks every `SYNC_INTERVAL_SECONDS`. */
  readonly scheduler: boolean;
}

/** A built application. */
export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: PrismaClient;
  /** Shared non-blocking connection (queues, rate limit, readiness): one server or a cluster. */
  readonly redis: RedisClient;
  readonly chekt: ChektClient;
  readonly tokens: TokenProvider;
  readonly rateLimiter: RateLimiter;
  readonly operationsQueue: Queue<OperationJobData>;
  readonly controlQueue: Queue<ControlJobData>;
  readonly planDeps: PlanRunDeps;
  /** Prometheus registry and metrics of this app (`GET /metrics`). */
  readonly metrics: Metrics;
  /** Workers started by {@link startWorkers} (empty when this process runs none). */
  readonly workers: Worker[];
  /**
   * Starts workers in this process: always the operation worker; the control worker (scheduled ticks and
   * API resync requests) unless `control` is false (the CLI runs only operation workers).
   */
  startWorkers(options?: { control?: boolean }): Promise<void>;
  /**
   * Creates or updates the job schedulers (change tick every `SYNC_INTERVAL_SECONDS`, reconcile on
   * `RECONCILE_CRON`) and listens for CRM change notifications (sync/notifications.ts).
   */
  startScheduler(): Promise<void>;
  /**
   * Starts this process's alerter when `ALERT_WEBHOOK_URL` is set (alerts/alerter.ts; every service process runs
   * one, deduplicated through PostgreSQL) and returns it; undefined without a webhook. Idempotent.
   */
  startAlerts(): Alerter | undefined;
  /** Number of workers (any process) currently connected to the operations queue. */
  countOperationWorkers(): Promise<number>;
  /**
   * Readiness of the recovery parts started by {@link startScheduler} (none before): `schedulers` (both job
   * schedulers stored in Redis), `listener` (the CRM-change listener's heartbeat comes back), `redisPolicy`
   * (Redis' `maxmemory-policy` may not evict). `checks` values other than `ok` fail `/readyz`; `warnings` do not.
   * docs/OPERATIONS-FAULTS.md.
   * @throws when Redis does not answer.
   */
  readiness(): Promise<{ checks: Record<string, string>; warnings: string[] }>;
  /** True once {@link stop} was called. */
  readonly stopping: boolean;
  /**
   * Stops taking work, lets running jobs finish for up to `SHUTDOWN_TIMEOUT_MS`, then closes queues, Redis and
   * PostgreSQL. Idempotent. `force` (after a failed start-up check) drops connections without waiting.
   */
  stop(options?: { force?: boolean }): Promise<void>;
}

/** Options of {@link createApp}. */
export interface CreateAppOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Clock; default `() => new Date()`. */
  readonly now?: () => Date;
  /** Use no shared rate limit (tests that measure something else). Default false. */
  readonly unlimitedRate?: boolean;
}

/** Builds the application (connections are opened lazily by their clients). */
export function createApp(options: CreateAppOptions): App {
  const { config, logger } = options;
  const now = options.now ?? (() => new Date());
  const redisTarget = redisTargetOf(config);
  const prefix = bullmqPrefix(config.sync.queuePrefix, redisTarget);
  const db = createPrisma({ databaseUrl: config.databaseUrl, statementTimeoutMs: config.dbStatementTimeoutMs });
  const redis = createRedis(redisTarget, { blocking: false, logger });
  // The metric hooks below run only after createApp returned, once `metrics` (built with the queues) exists.
  const onWait = (ms: number) => metrics.rateLimitWait.inc(ms / 1000);
  const rateLimiter = options.unlimitedRate
    ? createUnlimitedRateLimiter({ onWait })
    : createRedisRateLimiter({ redis, key: rateLimitKey(config), perMinute: config.chekt.rateLimitPerMinute, onWait });
  const tokens = new TokenProvider({
    tokenUrl: config.chekt.tokenUrl,
    auth: config.chekt.auth,
    timeoutMs: config.chekt.timeoutMs,
    refreshSkewSeconds: config.chekt.tokenRefreshSkewSeconds,
    clockMarginSeconds: config.chekt.assertionClockMarginSeconds,
    backoffMs: config.chekt.tokenBackoffMs,
    backoffMaxMs: config.chekt.tokenBackoffMaxMs,
    // Token calls count against CHeKT's budget only when CHeKT's API host serves them (not an Auth0 tenant).
    ...(new URL(config.chekt.tokenUrl).host === new URL(config.chekt.apiUrl).host ? { rateLimiter } : {}),
    logger: logger.child({ component: 'chekt-token' }),
    onRenew: (outcome) => metrics.tokenRenewals.inc({ outcome }),
  });
  // Aborted by stop(): from then on no CHeKT request starts, and jobs waiting on CHeKT give their slot back.
  const shutdown = new AbortController();
  // Every waiting CHeKT call (rate limit, 429 pause) listens on this one signal: WORKER_CONCURRENCY and more at
  // once is expected, not a leak (Node warns past 10 listeners).
  setMaxListeners(0, shutdown.signal);
  const chekt = createChektClient({
    apiUrl: config.chekt.apiUrl,
    tokens,
    rateLimiter,
    timeoutMs: config.chekt.timeoutMs,
    maxRetryAfterMs: config.chekt.maxRetryAfterSeconds * 1000,
    maxRateLimitedRetries: config.chekt.maxRateLimitedRetries,
    logger: logger.child({ component: 'chekt' }),
    signal: shutdown.signal,
    beforeSend: (r) => guardWrite(r.method),
    onCall: (i) => {
      recordCall({ endpoint: i.endpoint, status: i.status, traceId: i.traceId, durationMs: i.durationMs });
      metrics.chektCalls.inc({ endpoint: i.endpoint, status: i.status === undefined ? 'none' : String(i.status) });
      metrics.chektCallDuration.observe({ endpoint: i.endpoint }, i.durationMs / 1000);
    },
  });
  const queueOpts = { connection: redis, prefix };
  const operationsQueue = new Queue<OperationJobData>(OPERATIONS_QUEUE, queueOpts);
  const controlQueue = new Queue<ControlJobData>(CONTROL_QUEUE, queueOpts);
  // Connection errors are already logged (throttled) by the connection itself (queue/connection.ts).
  for (const q of [operationsQueue, controlQueue]) q.on('error', () => undefined);
  const rules: NormalizeRules = {
    defaultRegion: config.sync.phoneDefaultRegion,
    phoneFormat: config.sync.phoneFormat,
    maxNameLength: config.sync.maxNameLength,
    maxEmailLength: 254,
  };
  const metrics = createMetrics({ db, queues: [operationsQueue, controlQueue], unreachableSites: unreachableSitesGauge(db, rules) });
  const recoveryMetrics = registerRecoveryMetrics(metrics.registry, { redis, prefix });
  let planDeps: PlanRunDeps = {
    db,
    chekt,
    operations: operationsQueue,
    jobOptions: { backoffMs: config.sync.backoffMs },
    rules,
    holdRules: {
      maxDeleteSharePercent: config.sync.deleteHoldSharePercent,
      minDeletesForShare: config.sync.deleteHoldMinDeletes,
      minContacts: config.sync.siteMinContacts,
      minSmsContacts: config.sync.siteMinSmsContacts,
      windowSeconds: config.sync.deleteHoldWindowSeconds,
    },
    failedCooldownSeconds: config.sync.failedRetryCooldownSeconds,
    logger,
    now,
  };
  const reconcileLimiter = options.unlimitedRate
    ? createUnlimitedRateLimiter()
    : createRedisRateLimiter({
        redis,
        key: `${rateLimitKey(config)}:reconcile`,
        perMinute: Math.max(1, Math.floor((config.chekt.rateLimitPerMinute * config.sync.reconcileRateSharePercent) / 100)),
      });
  planDeps = { ...planDeps, reconcileLimiter };
  const workers: Worker[] = [];
  let listener: ChangeListener | undefined;
  let alerter: Alerter | undefined;
  let watchdog: Watchdog | undefined;
  const schedulerSpec = { tickEveryMs: config.sync.intervalSeconds * 1000, reconcileCron: config.sync.reconcileCron };
  const workerConnections: RedisClient[] = [];
  let stopping = false;
  let stopped: Promise<void> | undefined;

  const controlProcessor = async (job: Job<ControlJobData>) => {
    const data = job.data;
    const runId = randomUUID();
    switch (data.type) {
      case 'tick': {
        // Runs that still wait on operations no job will settle (jobs lost from Redis, or finished on older
        // CRM data) get those operations enqueued again.
        for (const stale of await listStaleRuns(db, 60_000, now())) {
          const n = await requeueOrphans(db, operationsQueue, stale, { jobOptions: planDeps.jobOptions });
          if (n > 0) logger.warn({ runId: stale, operations: n }, 'enqueued orphaned operations again');
        }
        const summary = await planRun(planDeps, { runId, mode: 'changes', sites: [], dryRun: false, createRun: { trigger: 'schedule', onlyIfWork: true } });
        return { runId: summary.recorded ? runId : null, totals: summary.totals };
      }
      case 'changes': {
        const summary = await planRun(planDeps, { runId, mode: 'changes', sites: [], crmSiteIds: data.crmSiteIds, dryRun: false, createRun: { trigger: 'notify', onlyIfWork: true } });
        return { runId: summary.recorded ? runId : null, totals: summary.totals };
      }
      case 'reconcile': {
        const summary = await planRun(planDeps, { runId, mode: 'reconcile', sites: [], dryRun: false, paceLists: true, createRun: { trigger: 'reconcile_schedule', onlyIfWork: true } });
        return { runId: summary.recorded ? runId : null, totals: summary.totals };
      }
      case 'resync': {
        const summary = await planRun(planDeps, { runId: data.runId, mode: 'reconcile', sites: data.sites.map(parseSiteKey), dryRun: data.dryRun, approveDeletes: !!data.approveDeletes });
        return { runId: data.runId, totals: summary.totals };
      }
    }
  };

  /** Queues one change plan for notified CRM sites; processes notified at once share one job id. */
  const enqueueChanges = async (crmSiteIds: string[]) => {
    const sorted = [...new Set(crmSiteIds)].sort();
    const id = createHash('sha256').update(sorted.join('\n')).digest('hex').slice(0, 24);
    await controlQueue.add('changes', { type: 'changes', crmSiteIds: sorted }, { jobId: `changes-${id}-${Math.floor(Date.now() / 1000)}`, removeOnComplete: true, removeOnFail: { count: 100 } });
  };

  return {
    config,
    logger,
    db,
    redis,
    chekt,
    tokens,
    rateLimiter,
    operationsQueue,
    controlQueue,
    planDeps,
    metrics,
    workers,
    get stopping() {
      return stopping;
    },
    async startWorkers(opts = {}) {
      const blocking = () => {
        const c = createRedis(redisTarget, { blocking: true, logger });
        workerConnections.push(c);
        return c;
      };
      const opsWorker = new Worker<OperationJobData>(
        OPERATIONS_QUEUE,
        // A job whose data Redis lost is dropped before it reads or writes anything, and rebuilt from PostgreSQL.
        guardOperationData(
          createOperationProcessor({
            deps: { db, chekt, rules, now, siteMinContacts: config.sync.siteMinContacts, siteMinSmsContacts: config.sync.siteMinSmsContacts },
            logger,
            ownsJob: (job, token) => holdsJobLock(redis, job, token),
            maxRetryAfterMs: config.chekt.maxRetryAfterSeconds * 1000,
            rateLimitQueue: (ms) => operationsQueue.rateLimit(ms),
            signal: shutdown.signal,
          }),
          logger,
        ),
        {
          connection: blocking(),
          prefix,
          concurrency: config.sync.workerConcurrency,
          autorun: true,
          settings: { backoffStrategy: createBackoffStrategy(config.sync.backoffMaxMs) },
          // BullMQ honours queue.rateLimit() (a 429 handed back) only on workers with a limiter; this one never
          // limits by itself (CHeKT's rate limit is chekt/rateLimiter.ts, per HTTP call).
          limiter: { max: Number.MAX_SAFE_INTEGER, duration: 1000 },
        },
      );
      observeOperationWorker(opsWorker, metrics);
      repairDroppedJobs(opsWorker, { db, queue: operationsQueue, jobOptions: planDeps.jobOptions, logger, onRepaired: () => recoveryMetrics.recoveries.inc({ what: 'dropped_job' }) });
      workers.push(opsWorker);
      if (opts.control ?? true) {
        // Several control jobs at once, so a long scheduled reconcile never delays change plans.
        const controlWorker = new Worker<ControlJobData>(CONTROL_QUEUE, controlProcessor, { connection: blocking(), prefix, concurrency: 4 });
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
      await Promise.all(workers.map((w) => w.waitUntilReady()));
    },
    async startScheduler() {
      await upsertSchedulers(controlQueue, schedulerSpec, logger);
      listener ??= listenForChanges({
        databaseUrl: config.listenDatabaseUrl,
        debounceMs: config.sync.notifyDebounceMs,
        heartbeatMs: config.listenHeartbeatMs,
        // From the pool, as the CRM's triggers notify: proves that other sessions' notifications reach the listener.
        sendHeartbeat: (channel, payload) => db.$queryRaw`SELECT pg_notify(${channel}, ${payload})::text AS sent`,
        logger,
        onSites: enqueueChanges,
        onReconnect: async () => {
          recoveryMetrics.listenerReconnects.inc();
          await controlQueue.add('tick', { type: 'tick' }, { removeOnComplete: true, removeOnFail: { count: 100 } });
        },
        onState: (state) => recoveryMetrics.listenerUp.set(state === 'listening' ? 1 : 0),
      });
      await listener.ready;
      watchdog ??= startWatchdog({
        db,
        redis,
        controlQueue,
        operationsQueue,
        prefix,
        spec: schedulerSpec,
        jobOptions: planDeps.jobOptions,
        allowEviction: config.redisAllowEviction,
        intervalMs: config.recoveryIntervalSeconds * 1000,
        logger,
        onRepair: (what, n) => recoveryMetrics.recoveries.inc({ what }, n),
      });
      logger.info({ tickEverySeconds: config.sync.intervalSeconds, reconcileCron: config.sync.reconcileCron }, 'job schedulers ready; listening for CRM changes');
    },
    startAlerts() {
      const webhookUrl = config.alerts.webhookUrl;
      if (webhookUrl && !alerter) alerter = startAlerter({ db, config: { ...config.alerts, webhookUrl }, logger, registry: metrics.registry, phoneRules: rules });
      return alerter;
    },
    async countOperationWorkers() {
      return (await operationsQueue.getWorkers()).length;
    },
    async readiness() {
      if (!watchdog || !listener) return { checks: {}, warnings: [] };
      const present = await watchdog.schedulers();
      const policy = watchdog.policy;
      const warnings: string[] = [];
      if (policy?.status === 'allowed') warnings.push(`redisPolicy: ${policy.policy} (allowed by REDIS_ALLOW_EVICTION)`);
      if (policy?.status === 'unknown') warnings.push(`redisPolicy: unknown (${policy.reason})`);
      return {
        checks: {
          schedulers: present.tick === 'ok' && present.reconcile === 'ok' ? 'ok' : 'missing',
          listener: listener.state === 'listening' ? 'ok' : 'down',
          redisPolicy: policy?.status === 'evicting' ? policy.policy : 'ok',
        },
        warnings,
      };
    },
    stop(opts = {}) {
      stopping = true;
      shutdown.abort(new Error('stopping'));
      stopped ??= (async () => {
        await watchdog?.stop();
        await listener?.close();
        await alerter?.stop();
        if (opts.force) {
          await Promise.all(workers.map((w) => w.close(true)));
          for (const c of [redis, ...workerConnections]) c.disconnect();
          await Promise.race([Promise.all([operationsQueue.close(), controlQueue.close()]), sleep(1000)]);
          await db.$disconnect();
          return;
        }
        const closing = Promise.all(workers.map((w) => w.close()));
        const timedOut = await Promise.race([
          closing.then(() => false),
          new Promise<boolean>((r) => setTimeout(() => r(true), config.sync.shutdownTimeoutMs).unref()),
        ]);
        if (timedOut) {
          logger.warn({ timeoutMs: config.sync.shutdownTimeoutMs }, 'jobs still running at shutdown timeout; they will be retried');
          // BullMQ's close(true) returns the close already in progress (which waits for the jobs), so cut the
          // workers' connections instead: their jobs' locks expire and the stalled-job check hands them to
          // another worker (at least once; a create is retried the safe way).
          for (const c of workerConnections) c.disconnect();
          void closing.catch(() => undefined);
        }
        if (timedOut) {
          // The cut jobs may still await CHeKT or PostgreSQL; do not wait for them.
          redis.disconnect();
          await Promise.race([Promise.all([operationsQueue.close(), controlQueue.close()]), sleep(1000)]);
          await Promise.race([db.$disconnect(), sleep(1000)]);
          return;
        }
        await Promise.all([operationsQueue.close(), controlQueue.close()]);
        await Promise.all([redis, ...workerConnections].map((c) => c.quit().catch(() => undefined)));
        await db.$disconnect();
      })();
      return stopped;
    },
  };
}

/**
 * Redis key of the shared CHeKT rate limit. CHeKT counts requests per client (chekt-api.md §3), so the key
 * is derived from the API URL and client id, not from `QUEUE_PREFIX`: two deployments with different
 * prefixes but one CHeKT client still share one budget.
 */
function rateLimitKey(config: Config): string {
  const id = createHash('sha256').update(`${config.chekt.apiUrl}\n${config.chekt.auth.clientId}`).digest('hex').slice(0, 16);
  return `chekt-contact-sync:rate:${id}`;
}
