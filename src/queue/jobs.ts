import type { PlannedOperation } from '../domain/plan.js';
import type { QueuedOperation } from '../sync/ports/operations.js';

/**
 * BullMQ queue names and job data. Job data carries ids only, never names, phones or emails: BullMQ stores
 * it in clear text in Redis and bull-board shows it (docs/PLATFORM.md#bullmq).
 */

/** Queue of contact operations (create/update/delete), one job per contact and site. */
export const OPERATIONS_QUEUE = 'contact-operations';
/** Queue of sync ticks (job scheduler) and manual resync requests. */
export const CONTROL_QUEUE = 'sync-control';
/** Id of the job scheduler that ticks every `SYNC_INTERVAL_SECONDS`. */
export const TICK_SCHEDULER_ID = 'sync-tick';
/** Id of the job scheduler that reconciles on `RECONCILE_CRON`. */
export const RECONCILE_SCHEDULER_ID = 'sync-reconcile';

/** Data of an operation job: the operation as the worker's lifecycle declares it (sync/ports/operations.ts). */
export type OperationJobData = QueuedOperation;

/** Data of a control job: a scheduled tick or a manual resync requested over HTTP. */
export type ControlJobData =
  /** Change tick over every enabled site (job scheduler, every `SYNC_INTERVAL_SECONDS`). */
  | { readonly type: 'tick' }
  /** Change plan of the CRM sites named by PostgreSQL notifications (sync/notifications.ts). */
  | { readonly type: 'changes'; readonly crmSiteIds: readonly string[] }
  /** Reconcile of every enabled site against CHeKT (job scheduler, on `RECONCILE_CRON`). */
  | { readonly type: 'reconcile' }
  /** Manual resync requested over HTTP: a reconcile of the given sites (all when empty). */
  | { readonly type: 'resync'; readonly runId: string; readonly sites: readonly string[]; readonly dryRun: boolean; readonly approveDeletes?: boolean };

/** Job data for a planned operation. */
export function toJobData(runId: string, o: PlannedOperation, approveDeletes = false): OperationJobData {
  return {
    ...(approveDeletes && o.kind === 'delete' ? { approveDeletes: true } : {}),
    runId,
    kind: o.kind,
    reason: o.reason,
    dealerId: o.dealerId,
    siteId: o.siteId,
    crmSiteId: o.crmSiteId,
    externalContactId: o.externalContactId,
    chektContactId: o.chektContactId,
  };
}
