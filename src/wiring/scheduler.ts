import type { CrmSource } from '../source/crm/database.js';
import type { Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../queue/connection.js';
import { enqueueChangeTick, enqueueNotifiedChanges } from '../queue/control.js';
import type { ControlJobData, OperationJobData } from '../queue/jobs.js';
import type { OperationJobOptions } from '../queue/producer.js';
import { upsertSchedulers } from '../queue/schedulers.js';
import type { RecoveryMetrics } from '../recovery/metrics.js';
import { startWatchdog, type Watchdog } from '../recovery/watchdog.js';
import type { PrismaClient } from '../source/db.js';
import { listenForChanges, type ChangeListener } from '../sync/notifications.js';

/** The scheduling parts of a process: the job schedulers, the CRM-change listener and the recovery loop. */
export interface Scheduler {
  /** Upserts the job schedulers; starts the listener and the recovery loop once (later calls upsert again). */
  start(): Promise<void>;
  /** See app.ts `App.readiness`. */
  readiness(): Promise<{ checks: Record<string, string>; warnings: string[] }>;
  /** Stops the recovery loop, then the listener. */
  stop(): Promise<void>;
}

/** Builds the scheduling parts; nothing runs before {@link Scheduler.start}. */
export function createScheduler(p: {
  config: Config;
  logger: Logger;
  db: PrismaClient;
  redis: RedisClient;
  prefix: string;
  controlQueue: Queue<ControlJobData>;
  operationsQueue: Queue<OperationJobData>;
  jobOptions: OperationJobOptions;
  recoveryMetrics: RecoveryMetrics;
  /** The CRM connection: the listener's heartbeat is sent on the database it listens to. */
  crm: Pick<CrmSource, 'query'>;
}): Scheduler {
  const { config, logger, db, controlQueue, recoveryMetrics } = p;
  const spec = { tickEveryMs: config.sync.intervalSeconds * 1000, reconcileCron: config.sync.reconcileCron };
  let listener: ChangeListener | undefined;
  let watchdog: Watchdog | undefined;
  return {
    async start() {
      await upsertSchedulers(controlQueue, spec, logger);
      listener ??= listenForChanges({
        databaseUrl: config.listenDatabaseUrl,
        debounceMs: config.sync.notifyDebounceMs,
        heartbeatMs: config.listenHeartbeatMs,
        // From the pool, as the CRM's triggers notify: proves that other sessions' notifications reach the listener.
        sendHeartbeat: (channel, payload) => p.crm.query('SELECT pg_notify($1, $2)::text AS sent', [channel, payload]),
        logger,
        onSites: (crmSiteIds) => enqueueNotifiedChanges(controlQueue, crmSiteIds),
        onAnyChange: () => enqueueChangeTick(controlQueue).then(() => undefined),
        onReconnect: async () => {
          recoveryMetrics.listenerReconnects.inc();
          await enqueueChangeTick(controlQueue);
        },
        onState: (state) => recoveryMetrics.listenerUp.set(state === 'listening' ? 1 : 0),
      });
      await listener.ready;
      watchdog ??= startWatchdog({
        db,
        redis: p.redis,
        controlQueue,
        operationsQueue: p.operationsQueue,
        prefix: p.prefix,
        spec,
        jobOptions: p.jobOptions,
        allowEviction: config.redisAllowEviction,
        intervalMs: config.recoveryIntervalSeconds * 1000,
        logger,
        onRepair: (what, n) => recoveryMetrics.recoveries.inc({ what }, n),
      });
      logger.info({ tickEverySeconds: config.sync.intervalSeconds, reconcileCron: config.sync.reconcileCron }, 'job schedulers ready; listening for CRM changes');
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
    async stop() {
      await watchdog?.stop();
      await listener?.close();
    },
  };
}
