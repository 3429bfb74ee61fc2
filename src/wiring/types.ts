import type { Queue, Worker } from 'bullmq';
import type { Alerter } from '../alerts/alerter.js';
import type { ChektClient } from '../chekt/client.js';
import type { RateLimiter } from '../chekt/rateLimiter.js';
import type { TokenProvider } from '../chekt/token.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { RedisClient } from '../queue/connection.js';
import type { ControlJobData, OperationJobData } from '../queue/jobs.js';
import type { OperationJobOptions } from '../queue/producer.js';
import type { CrmSource } from '../source/crm/database.js';
import type { PrismaClient, RunSql } from '../source/db.js';
import type { ControlDeps } from '../sync/control.js';

/** The shape of the composition root (../app.ts `createApp`). */

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
  /** Statements on `db`'s pool through node-postgres (source/db.ts `Database.sql`). */
  readonly sql: RunSql;
  /** The partner's CRM, read only (`CRM_DATABASE_URL`, source/crm/database.ts). */
  readonly crm: CrmSource;
  /** Shared non-blocking connection (queues, rate limit, readiness): one server or a cluster. */
  readonly redis: RedisClient;
  readonly chekt: ChektClient;
  readonly tokens: TokenProvider;
  readonly rateLimiter: RateLimiter;
  readonly operationsQueue: Queue<OperationJobData>;
  readonly controlQueue: Queue<ControlJobData>;
  /** What sync/'s use cases need (sync/control.ts): the planner's stores and queues, CHeKT, and settings. */
  readonly planDeps: ControlDeps;
  /** Options of operation jobs (`SYNC_BACKOFF_MS`), for whoever enqueues them again (sync/waitForRun.ts). */
  readonly jobOptions: OperationJobOptions;
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
