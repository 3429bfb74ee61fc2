import type { OperationReason, PlannedOperation } from '../domain/plan.js';

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

/** Data of an operation job. */
export interface OperationJobData {
  readonly runId: string;
  readonly kind: 'create' | 'update' | 'delete';
  readonly reason: OperationReason;
  readonly dealerId: string;
  readonly siteId: string;
  /** CRM `sites.id` the operation was planned for. */
  readonly crmSiteId: string;
  readonly externalContactId: string;
  /** CHeKT `contact_id` seen at planning, for updates and deletes. */
  readonly chektContactId: string | null;
  /** An operator approved this site's deletes: the minimum-contacts check (sync/deleteGate.ts) is lifted. */
  readonly approveDeletes?: boolean;
}

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
