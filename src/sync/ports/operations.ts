import type { ChektContactsApi } from '../../chekt/types.js';
import type { CrmContact } from '../../domain/contact.js';
import type { OperationReason } from '../../domain/plan.js';
import type { Hold } from '../../domain/safety.js';
import type { SiteRef } from '../../domain/site.js';

/**
 * What the operation lifecycle (sync/runOperation.ts, sync/applyOperation.ts) needs from the world, as ports:
 * PostgreSQL behind {@link OperationStore} (source/operationStore.ts), and CHeKT behind {@link ChektContactsApi}
 * scoped per attempt ({@link ChektForAttempt}, chekt/client.ts `forScope`). The job queue stays outside: its edge
 * (queue/operationWorker.ts) hands the lifecycle one attempt at a time and maps what it came to onto BullMQ.
 * Unit tests give in-memory fakes (test/unit/fakes/operations.ts).
 */

export type { ChektContactsApi } from '../../chekt/types.js';

/** One planned operation as a worker receives it: ids only, never names or phones (it is job data in Redis). */
export interface QueuedOperation {
  readonly runId: string;
  readonly kind: 'create' | 'update' | 'delete';
  readonly reason: OperationReason;
  /** CHeKT's site of the contact. */
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

/** A {@link QueuedOperation} with its job's id (`op_key`, domain/opKey.ts) and when it was enqueued (epoch ms). */
export interface OperationInHand extends QueuedOperation {
  readonly opKey: string;
  readonly enqueuedAt: number;
}

/**
 * What a worker reads before acting on one operation, in one round trip: the database clock, the CRM contact
 * row and its fingerprint, the planned CRM site, and the CHeKT `contact_id` the ledger holds.
 */
export interface OperationContext {
  /** The database's clock when the row was read (settles only runs that saw no newer CRM data). */
  readonly readAt: Date;
  /** The contact row now, or null when it no longer exists (hard delete). */
  readonly crm: CrmContact | null;
  /** Fingerprint of the row now (source/changes.ts), null when it no longer exists. */
  readonly fingerprint: string | null;
  /** The planned CRM site now, or null when it no longer exists. */
  readonly site: { readonly id: string; readonly syncEnabled: boolean } | null;
  readonly ledgerChektContactId: string | null;
  /** A run planned this contact's delete (under the deletion holds) and still waits on it. */
  readonly deletePlanned: boolean;
  /**
   * Why the CRM's rows cannot be used now (a key or a site held twice, a site without CHeKT ids: domain/crmRows.ts):
   * the operation is skipped with this reason and nothing is deleted. Null or absent when they can.
   */
  readonly problem?: string | null;
}

/** `failed_hash` of a delete that failed for good (a fingerprint otherwise): tried again after the cool-down. */
export const DELETE_FAILED = 'delete';

/** One ledger write after an operation or adoption (`sync_ledger`, one row per site and `external_contact_id`). */
export interface LedgerWrite {
  readonly site: SiteRef;
  readonly externalContactId: string;
  /** New CHeKT `contact_id`; null after a delete; undefined keeps the stored one. */
  readonly chektContactId?: string | null;
  readonly kind: 'create' | 'update' | 'delete' | 'adopt' | 'skip';
  readonly outcome: 'succeeded' | 'failed' | 'skipped' | 'held';
  readonly error?: string | null;
  /** The body sent (names, phone, email as sent) and its content hash; kept only on success. */
  readonly sent?: unknown;
  readonly sentHash?: string | null;
  /** `echoHash` (domain/contact.ts) of CHeKT's answer to the write (undefined keeps the stored one; null forgets it). */
  readonly echoHash?: string | null;
  /** CRM fingerprint CHeKT now reflects (undefined keeps the stored one; null forgets it). */
  readonly crmHash?: string | null;
  /** The echo check's problem with CHeKT's copy (domain/reach.ts; undefined keeps the stored one, null clears it). */
  readonly reachProblem?: string | null;
  /** The planned change is done (applied or found needless): clears `pending_since` and any failure. */
  readonly settled?: boolean;
  /** Failed for good on this fingerprint (or {@link DELETE_FAILED}): tried again when the row changes or after the cool-down. */
  readonly failedHash?: string;
  readonly runId: string | null;
  readonly now: Date;
}

/** How an operation ended, recorded on every run waiting on its job (`sync_operations`). */
export interface Settlement {
  readonly opKey: string;
  readonly outcome: 'succeeded' | 'failed' | 'skipped' | 'held';
  readonly appliedKind: string;
  readonly error: string | null;
  /** Attempts made, this one included. */
  readonly attempts: number;
  /** {@link OperationContext.readAt} of the pass that ended it. */
  readonly readAt: Date;
  readonly now: Date;
  /** The ledger write recording the operation, made in the same statement. */
  readonly ledger?: LedgerWrite;
}

/** What settling touched. */
export interface SettleResult {
  /** Runs whose operation of this job was settled. */
  readonly runIds: readonly string[];
  /** Among them, the runs that still had other operations queued as the statement saw them: check them again. */
  readonly openRunIds: readonly string[];
  /** A run that read newer CRM data than this pass still waits on the job: apply again (latest wins). */
  readonly stillQueued: boolean;
}

/** What decides whether a delete may run now (sync/deleteGate.ts). */
export interface DeleteGateState {
  /** A create is queued on the same CHeKT site, or for the same contact on another site. */
  readonly createsPending: boolean;
  /** Contacts this service manages on the site besides the one to delete. */
  readonly remaining: number;
  /** The site is on hold (`sync_holds`). */
  readonly held: boolean;
  /** A create on this site failed for good in the same run. */
  readonly createFailed: boolean;
}

/** SMS-capable contacts this service holds in CHeKT on a site, by the phones last sent and their echo checks. */
export interface SentSms {
  /** Those other than the contact to delete. */
  readonly others: number;
  /** Whether the contact to delete is one. */
  readonly deleted: boolean;
}

/** The reads and writes of a delete made while holding its site's lock ({@link OperationStore.withSiteLock}). */
export interface LockedSite {
  readDeleteGate(op: Pick<OperationInHand, 'opKey' | 'runId' | 'externalContactId' | 'dealerId' | 'siteId'>): Promise<DeleteGateState>;
  readSentSms(externalContactId: string): Promise<SentSms>;
  /** Stores a hold found by the gate (the delete waits for an operator). */
  addHold(hold: Hold, runId: string | null, now: Date): Promise<void>;
  writeLedger(write: LedgerWrite): Promise<void>;
}

/**
 * The sync ledger, the runs' operations and the CRM rows, as the worker uses them (source/operationStore.ts:
 * PostgreSQL). Every method throws the store's own error when the database fails; the lifecycle retries it.
 */
export interface OperationStore {
  readContext(op: OperationInHand): Promise<OperationContext>;
  /** Settles the operation on every run waiting on its job, with its ledger write, in one commit. */
  settle(settlement: Settlement): Promise<SettleResult>;
  /** Completes the runs among `runIds` with no queued operation left. */
  completeRuns(runIds: readonly string[], now: Date): Promise<void>;
  /**
   * Runs `fn` holding the site's delete lock (across every worker process; released when `fn` settles or the
   * process dies), so two deletes of one site never both see the other's contact as remaining.
   */
  withSiteLock<T>(site: SiteRef, fn: (locked: LockedSite) => Promise<T>): Promise<T>;
}

/** One CHeKT call of an attempt, logged with its outcome. */
export interface CallRecord {
  readonly endpoint: string;
  readonly status: number | undefined;
  readonly traceId: string;
  readonly durationMs: number;
}

/** What an attempt asks of each CHeKT call it makes. */
export interface CallScope {
  /** Awaited right before every write (POST, PUT, DELETE) is sent; throws to stop it (fencing). */
  readonly beforeWrite: () => Promise<void>;
  /** Called after every HTTP exchange. */
  readonly onCall: (call: CallRecord) => void;
}

/** The CHeKT contacts API for one attempt: its calls honour `scope` (chekt/client.ts `forScope`). */
export type ChektForAttempt = (scope: CallScope) => ChektContactsApi;

/** Thrown instead of a write when another worker holds the job now. Never recorded: the other worker owns the outcome. */
export class JobLockLostError extends Error {
  override readonly name = 'JobLockLostError';
  constructor(readonly jobId: string) {
    super(`job ${jobId}: this worker no longer holds its lock (another worker took it over); attempt dropped without writing`);
  }
}
