import type { Queue } from 'bullmq';
import type { RateLimiter } from '../chekt/rateLimiter.js';
import type { ChektContactsApi } from '../chekt/types.js';
import type { Config } from '../config.js';
import type { NormalizeRules } from '../domain/contact.js';
import type { Logger } from '../logger.js';
import { createControlEnqueuer } from '../queue/control.js';
import type { ControlJobData, OperationJobData } from '../queue/jobs.js';
import { createOperationEnqueuer, operationJobs, type OperationJobOptions } from '../queue/producer.js';
import type { CrmSource } from '../source/crm/database.js';
import type { PrismaClient, RunSql } from '../source/db.js';
import { createPlannerStore } from '../source/planner.js';
import { listQueuedOperations } from '../source/runs.js';
import type { ControlDeps } from '../sync/control.js';
import { requeueOrphans } from '../sync/requeue.js';

/** The contact normalisation rules of the config (`PHONE_DEFAULT_REGION`, `PHONE_FORMAT`, `CONTACT_MAX_NAME_LENGTH`). */
export function normalizeRulesOf(config: Config): NormalizeRules {
  return { defaultRegion: config.sync.phoneDefaultRegion, phoneFormat: config.sync.phoneFormat, maxNameLength: config.sync.maxNameLength, maxEmailLength: 254 };
}

/** The operation jobs' options of the config (`SYNC_BACKOFF_MS`). */
export function jobOptionsOf(config: Config): OperationJobOptions {
  return { backoffMs: config.sync.backoffMs };
}

/** What sync/'s use cases need (sync/control.ts `ControlDeps`), over PostgreSQL, the two queues and CHeKT. */
export function createPlanDeps(options: {
  config: Config;
  db: PrismaClient;
  sql: RunSql;
  crm: CrmSource;
  chekt: ChektContactsApi;
  operationsQueue: Queue<OperationJobData>;
  controlQueue: Queue<ControlJobData>;
  reconcileLimiter: RateLimiter;
  logger: Logger;
  now: () => Date;
}): ControlDeps {
  const { config, db, operationsQueue } = options;
  const jobOptions = jobOptionsOf(config);
  return {
    store: createPlannerStore({ db, sql: options.sql, crm: options.crm }),
    operations: createOperationEnqueuer(operationsQueue, jobOptions),
    control: createControlEnqueuer(options.controlQueue),
    requeueOrphans: (runId) => requeueOrphans({ listQueued: (id) => listQueuedOperations(db, id), jobs: operationJobs(operationsQueue, jobOptions) }, runId),
    chekt: options.chekt,
    rules: normalizeRulesOf(config),
    holdRules: {
      maxDeleteSharePercent: config.sync.deleteHoldSharePercent,
      minDeletesForShare: config.sync.deleteHoldMinDeletes,
      minContacts: config.sync.siteMinContacts,
      minSmsContacts: config.sync.siteMinSmsContacts,
      windowSeconds: config.sync.deleteHoldWindowSeconds,
    },
    failedCooldownSeconds: config.sync.failedRetryCooldownSeconds,
    reconcileLimiter: options.reconcileLimiter,
    logger: options.logger,
    now: options.now,
  };
}
