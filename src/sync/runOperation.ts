import pRetry from 'p-retry';
import { ChektCancelledError, ChektRateLimitedError, isChektError } from '../chekt/errors/index.js';
import type { NormalizeRules } from '../domain/contact.js';
import type { Logger } from '../logger.js';
import { applyOperation, type ApplyResult } from './applyOperation.js';
import { DELETE_FAILED, JobLockLostError, type CallRecord, type ChektForAttempt, type OperationInHand, type OperationStore, type Settlement } from './ports/operations.js';
import type { RunCompletion } from './runCompletion.js';

/**
 * The lifecycle of one attempt at an operation (docs/RETRIES.md), free of the job queue: the queue edge
 * (queue/operationWorker.ts) turns its {@link AttemptOutcome} into BullMQ's mechanics.
 * - **transient** failures (5xx, 429, timeouts, network errors, the token endpoint or PostgreSQL or Redis down,
 *   anything not known to be permanent) are retried inside the attempt (p-retry, a few quick tries), then
 *   returned as `retry`: the queue tries again after capped exponential backoff with full jitter
 *   (queue/backoff.ts) for as long as the job exists, so a transient failure never marks a contact failed;
 * - **permanent** failures (a ChektError that is not `retryable`: 400, 403, 404 on create, 409 that cannot be
 *   adopted, 422, an invalid response) give up at once (`failed`), keeping the reason in the ledger and the
 *   runs. Such a contact is planned again only when its CRM row changes or after `FAILED_RETRY_COOLDOWN_SECONDS`;
 * - a 429 whose wait is longer than `CHEKT_MAX_RETRY_AFTER_SECONDS` is handed back (`handed_back`): the whole
 *   queue waits for it ({@link LifecycleDeps.handBack}) and the job goes back to waiting without counting as an
 *   attempt, so no worker slot sleeps through it;
 * - **fencing**: before every CHeKT write and the ledger write the attempt checks that its worker still holds
 *   the job ({@link Attempt.holdsJob}); one that lost it drops the attempt and writes nothing (`retry` with a
 *   {@link JobLockLostError});
 * - **latest wins**: the CRM row is read again before acting, and when a run planned newer CRM data while the
 *   attempt ran, the operation is applied again, up to {@link MAX_PASSES} times.
 */

/** What {@link runOperation} needs. Times are in ms. */
export interface LifecycleDeps {
  readonly store: OperationStore;
  /** The CHeKT API scoped to one attempt (fenced writes, logged calls): chekt/client.ts `forScope`. */
  readonly chekt: ChektForAttempt;
  readonly rules: NormalizeRules;
  readonly now: () => Date;
  /** Config `SITE_MIN_CONTACTS` (default 1). */
  readonly siteMinContacts: number;
  /** Config `SITE_MIN_SMS_CONTACTS` (absent: not checked by the delete gate). */
  readonly siteMinSmsContacts?: number;
  readonly logger: Logger;
  /** Retries inside one attempt for retryable CHeKT errors. Default 2. */
  readonly innerRetries?: number;
  /** First inner backoff delay (doubled per retry, randomised). Default 250. */
  readonly innerMinTimeoutMs?: number;
  /** Delay before a delete that waits for creates looks again. Default 1000. */
  readonly deleteWaitMs?: number;
  /** Longest 429 wait an attempt sits through in place (config `CHEKT_MAX_RETRY_AFTER_SECONDS` × 1000). Default 30,000. */
  readonly maxRetryAfterMs?: number;
  /** Makes every worker of the queue wait `ms` (BullMQ `queue.rateLimit`). Default: none (a long 429 is retried with backoff). */
  readonly handBack?: (ms: number) => Promise<void>;
  /** Aborted when the process stops: inner retries end, and the job is left to another worker. */
  readonly signal?: AbortSignal;
  /**
   * Checks the runs a settled operation left open once more after its commit (./runCompletion.ts). Default: one
   * check right after each commit (a statement per operation; the app gathers them).
   */
  readonly runCompletion?: Pick<RunCompletion, 'checkLater'>;
}

/** One attempt at an operation, as the queue hands it over. */
export interface Attempt {
  readonly operation: OperationInHand;
  /** This attempt's number, 1 for the first. */
  readonly attempt: number;
  /** An earlier start of the job may have reached CHeKT (a retry, a stalled job taken over, a hand-back): a create looks up first. */
  readonly earlierTry: boolean;
  /** Whether this worker still holds the job (queue/fence.ts); absent: not fenced. */
  readonly holdsJob?: () => Promise<boolean>;
}

/** What the attempt came to. */
export type AttemptOutcome =
  | { readonly type: 'done'; readonly result: ApplyResult & { readonly passes: number } }
  /** A delete waits for creates on its site: look again after `delayMs` (the job keeps its attempts). */
  | { readonly type: 'wait'; readonly delayMs: number }
  /** A long 429: the queue waits `retryAfterMs`; the job goes back to waiting, not counted as an attempt. */
  | { readonly type: 'handed_back'; readonly retryAfterMs: number }
  /** Try again later: a transient failure, a shutdown, or a lost lock (a {@link JobLockLostError}: nothing written). */
  | { readonly type: 'retry'; readonly error: unknown }
  /** Given up for good: the reason is in the ledger and the runs. */
  | { readonly type: 'failed'; readonly reason: string };

/** How often one attempt applies again because a run planned newer CRM data while it ran. */
export const MAX_PASSES = 3;

/**
 * Runs one attempt; see the module comment. Logs its outcome (one line, with the CHeKT calls' trace ids).
 * @throws what checking the lock or recording a permanent failure throws (the store down, a lost lock then):
 * the queue retries the job.
 */
export async function runOperation(deps: LifecycleDeps, attempt: Attempt): Promise<AttemptOutcome> {
  const op = attempt.operation;
  const log = deps.logger.child({ runId: op.runId, jobId: op.opKey, dealerId: op.dealerId, siteId: op.siteId, externalContactId: op.externalContactId });
  const started = Date.now();
  const state: PassState = { fingerprint: null, readAt: new Date(0) };
  const assertOwner = async () => {
    if (attempt.holdsJob && !(await attempt.holdsJob())) throw new JobLockLostError(op.opKey);
  };
  const calls: CallRecord[] = [];
  const chekt = deps.chekt({ beforeWrite: assertOwner, onCall: (c) => calls.push(c) });
  const traceIds = () => calls.map((c) => c.traceId);
  try {
    const r = await applyUntilCurrent({ ...deps, chekt }, attempt, state, assertOwner);
    // Add before remove: look again shortly.
    if (r.outcome === 'wait') return { type: 'wait', delayMs: deps.deleteWaitMs ?? 1000 };
    log.info(
      { kind: op.kind, appliedKind: r.appliedKind, outcome: r.outcome, reason: r.detail ?? undefined, passes: r.passes, traceIds: traceIds(), durationMs: Date.now() - started },
      'operation done',
    );
    return { type: 'done', result: r };
  } catch (err) {
    const fields = { kind: op.kind, attempt: attempt.attempt, traceIds: traceIds(), durationMs: Date.now() - started };
    if (err instanceof JobLockLostError) {
      log.warn({ ...fields, outcome: 'dropped' }, 'operation dropped: another worker holds its job now; nothing written');
      return { type: 'retry', error: err };
    }
    const handBackMs = err instanceof ChektRateLimitedError ? (err.retryAfterMs ?? 0) : 0;
    if (deps.handBack && handBackMs > (deps.maxRetryAfterMs ?? 30_000)) {
      await deps.handBack(handBackMs);
      log.warn({ ...fields, outcome: 'rate_limited', retryAfterMs: handBackMs }, 'CHeKT rate limit: the queue waits, the job goes back to waiting');
      return { type: 'handed_back', retryAfterMs: handBackMs };
    }
    const transient = !isChektError(err) || err.retryable;
    if (err instanceof ChektCancelledError || (transient && deps.signal?.aborted)) {
      log.info({ ...fields, outcome: 'retrying' }, 'operation cut by shutdown before its next CHeKT request; another worker retries it');
      return { type: 'retry', error: err };
    }
    if (transient) {
      // A long outage retries every pending contact about once a minute: warn for the first attempts and every
      // tenth, so the log shows the outage without one line per contact per minute.
      const level = fields.attempt <= 5 || fields.attempt % 10 === 0 ? 'warn' : 'debug';
      log[level]({ ...fields, outcome: 'retrying', err }, 'operation failed; will retry');
      return { type: 'retry', error: err };
    }
    log.warn({ ...fields, outcome: 'failed', err }, 'operation failed');
    await assertOwner();
    const reason = err instanceof Error ? err.message : String(err);
    await recordFailure(deps, attempt, reason, state);
    return { type: 'failed', reason };
  }
}

/** Records a permanent failure: the ledger's failure record goes in the statement that settles the operation. */
async function recordFailure(deps: LifecycleDeps, attempt: Attempt, reason: string, state: PassState): Promise<void> {
  const op = attempt.operation;
  const now = deps.now();
  await settle(deps, {
    opKey: op.opKey,
    outcome: 'failed',
    appliedKind: op.kind,
    error: reason,
    attempts: attempt.attempt,
    readAt: state.readAt,
    now,
    ledger: {
      site: { dealerId: op.dealerId, siteId: op.siteId },
      externalContactId: op.externalContactId,
      kind: op.kind,
      outcome: 'failed',
      error: reason,
      failedHash: op.kind === 'delete' ? DELETE_FAILED : (state.fingerprint ?? DELETE_FAILED),
      runId: op.runId,
      now,
    },
  });
}

/** Settles the operation and has the runs it left open checked after the commit. */
async function settle(deps: Pick<LifecycleDeps, 'store' | 'runCompletion' | 'now'>, settlement: Settlement): Promise<{ stillQueued: boolean }> {
  const settled = await deps.store.settle(settlement);
  if (settled.openRunIds.length > 0) {
    if (deps.runCompletion) deps.runCompletion.checkLater(settled.openRunIds);
    else await deps.store.completeRuns(settled.openRunIds, deps.now());
  }
  return settled;
}

/** What the current pass read: the failure path records it. */
interface PassState {
  fingerprint: string | null;
  readAt: Date;
}

/**
 * Applies the operation (with in-attempt retries) and settles the runs waiting on it. When a run planned
 * newer CRM data while this attempt ran, its operation is still queued afterwards: apply again (re-reading the
 * CRM), up to {@link MAX_PASSES} times. Latest CRM state wins; no run reports success on older values.
 * `assertOwner` runs before the ledger write (fencing).
 */
async function applyUntilCurrent(
  deps: Omit<LifecycleDeps, 'chekt'> & { readonly chekt: ReturnType<ChektForAttempt> },
  attempt: Attempt,
  state: PassState,
  assertOwner: () => Promise<void>,
): Promise<ApplyResult & { passes: number }> {
  const op = attempt.operation;
  let last: ApplyResult | undefined;
  let passes = 0;
  while (passes < MAX_PASSES) {
    passes += 1;
    const applied = await pRetry(
      async (n) => {
        const ctx = await deps.store.readContext(op);
        state.fingerprint = ctx.fingerprint;
        state.readAt = ctx.readAt;
        return applyOperation(deps, op, ctx, attempt.earlierTry || passes > 1 || n > 1);
      },
      {
        retries: deps.innerRetries ?? 2,
        factor: 2,
        minTimeout: deps.innerMinTimeoutMs ?? 250,
        maxTimeout: 5_000,
        randomize: true,
        // A handed-back 429, a lost lock and a shutdown end the attempt at once.
        // Not p-retry's `signal`: it rejects at once on abort, while a request already sent is still in flight
        // (its answer would then go unrecorded). A stop only ends the quick retries.
        shouldRetry: ({ error }) =>
          !deps.signal?.aborted &&
          isChektError(error) &&
          error.retryable &&
          !(error instanceof ChektCancelledError) &&
          !(error instanceof ChektRateLimitedError && (error.retryAfterMs ?? 0) > (deps.maxRetryAfterMs ?? 30_000)),
      },
    );
    last = applied.result;
    if (last.outcome === 'wait') return { ...last, passes };
    await assertOwner();
    const { stillQueued } = await settle(deps, {
      opKey: op.opKey,
      outcome: last.outcome,
      appliedKind: last.appliedKind,
      error: last.detail,
      attempts: attempt.attempt,
      readAt: state.readAt,
      now: deps.now(),
      ...(applied.ledger ? { ledger: applied.ledger } : {}),
    });
    if (!stillQueued) break;
  }
  return { ...last!, passes };
}
