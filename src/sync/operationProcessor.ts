import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import pRetry from 'p-retry';
import { ChektCancelledError, ChektRateLimitedError, isChektError } from '../chekt/errors/index.js';
import type { Logger } from '../logger.js';
import { JobLockLostError } from '../queue/fence.js';
import type { OperationJobData } from '../queue/jobs.js';
import { DELETE_FAILED } from '../source/changes.js';
import { viaPrisma, type RunSql } from '../source/db.js';
import { readOperationContext } from '../source/operationContext.js';
import { completeRunsIfDone, finishOperation } from '../source/runs.js';
import { applyOperation, type ApplyDeps, type ApplyResult } from './applyOperation.js';
import { withCallLog } from './callContext.js';
import type { RunCompletion } from './runCompletion.js';

/**
 * The queue edge for operation jobs (docs/RETRIES.md):
 * - **transient** failures (5xx, 429, timeouts, network errors, the token endpoint or PostgreSQL or Redis down,
 *   anything not known to be permanent) are retried inside the attempt (p-retry, a few quick tries), then thrown
 *   to BullMQ, which tries again after capped exponential backoff with full jitter (queue/backoff.ts) for as
 *   long as the job exists: a transient failure never marks a contact failed;
 * - **permanent** failures (a ChektError that is not `retryable`: 400, 403, 404 on create, 409 that cannot be
 *   adopted, 422, an invalid response) give up at once with `UnrecoverableError`, keeping the reason in the
 *   ledger, the run and the job. Such a contact is planned again only when its CRM row changes or after
 *   `FAILED_RETRY_COOLDOWN_SECONDS`;
 * - a 429 whose wait is longer than `CHEKT_MAX_RETRY_AFTER_SECONDS` is handed back: the whole queue is rate
 *   limited for it (BullMQ `queue.rateLimit`) and the job goes back to waiting (`RateLimitError`, which does not
 *   count as an attempt), so no worker slot sleeps through it;
 * - **fencing**: before every CHeKT write and the ledger write, the worker checks that it still holds the job's
 *   lock (queue/fence.ts); a worker that lost it drops the attempt and writes nothing.
 */

/** Settings of {@link createOperationProcessor}. */
export interface ProcessorOptions {
  readonly deps: ApplyDeps;
  readonly logger: Logger;
  /** Retries inside one BullMQ attempt for retryable errors. Default 2. */
  readonly innerRetries?: number;
  /** First inner backoff delay in ms (doubled per retry, randomised). Default 250. */
  readonly innerMinTimeoutMs?: number;
  /** Delay before a delete that waits for creates looks again, in ms. Default 1000. */
  readonly deleteWaitMs?: number;
  /**
   * Whether the worker still holds the job's lock under `token` (queue/fence.ts `holdsJobLock`). Default: always
   * (no fencing; tests of the processor alone).
   */
  readonly ownsJob?: (job: Job<OperationJobData>, token: string) => Promise<boolean>;
  /** Longest 429 wait a job sits through in place, in ms (config `CHEKT_MAX_RETRY_AFTER_SECONDS` × 1000). Default 30,000. */
  readonly maxRetryAfterMs?: number;
  /** Stops every worker of the queue for `ms` (BullMQ `queue.rateLimit`). Default: none (the job is retried with backoff). */
  readonly rateLimitQueue?: (ms: number) => Promise<void>;
  /** Aborted when the process stops: inner retries end, and the job is left to another worker. */
  readonly signal?: AbortSignal;
  /**
   * Checks the runs a settled operation left open once more after its commit (./runCompletion.ts). Default: one
   * check right after each commit (a statement per operation; the app gathers them).
   */
  readonly runCompletion?: Pick<RunCompletion, 'checkLater'>;
}

/** Builds the BullMQ processor function for the operations queue. */
export function createOperationProcessor(options: ProcessorOptions): (job: Job<OperationJobData>, token?: string) => Promise<ApplyResult & { passes: number }> {
  const { deps, logger } = options;
  return async (job, token) => {
    const d = job.data;
    const log = logger.child({ runId: d.runId, jobId: job.id, dealerId: d.dealerId, siteId: d.siteId, externalContactId: d.externalContactId });
    const started = Date.now();
    // Any earlier start may have reached CHeKT (a create then looks up first): a retry, a stalled job taken over,
    // a job handed back after a 429.
    const earlierTry = job.attemptsStarted > 1 || job.attemptsMade > 0;
    const state: PassState = { fingerprint: null, readAt: new Date(0) };
    const assertOwner = async () => {
      if (token && options.ownsJob && !(await options.ownsJob(job, token))) throw new JobLockLostError(String(job.id));
    };
    const { calls, result } = withCallLog(
      () => applyUntilCurrent(options, { ...d, opKey: String(job.id), enqueuedAt: job.timestamp }, earlierTry, job.attemptsMade + 1, state, assertOwner),
      assertOwner,
    );
    const traceIds = () => calls.map((c) => c.traceId);
    try {
      const r = await result;
      if (r.outcome === 'wait') {
        // Add before remove: look again shortly; a delayed job keeps its attempts (BullMQ DelayedError).
        await job.moveToDelayed(Date.now() + (options.deleteWaitMs ?? 1000), token);
        throw new DelayedError();
      }
      log.info({ kind: d.kind, appliedKind: r.appliedKind, outcome: r.outcome, reason: r.detail ?? undefined, passes: r.passes, traceIds: traceIds(), durationMs: Date.now() - started }, 'operation done');
      return r;
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      const fields = { kind: d.kind, attempt: job.attemptsMade + 1, traceIds: traceIds(), durationMs: Date.now() - started };
      if (err instanceof JobLockLostError) {
        log.warn({ ...fields, outcome: 'dropped' }, 'operation dropped: another worker holds its job now; nothing written');
        throw err;
      }
      const handBackMs = err instanceof ChektRateLimitedError ? (err.retryAfterMs ?? 0) : 0;
      if (options.rateLimitQueue && handBackMs > (options.maxRetryAfterMs ?? 30_000)) {
        await options.rateLimitQueue(handBackMs);
        log.warn({ ...fields, outcome: 'rate_limited', retryAfterMs: handBackMs }, 'CHeKT rate limit: the queue waits, the job goes back to waiting');
        throw Worker.RateLimitError();
      }
      const transient = !isChektError(err) || err.retryable;
      if (err instanceof ChektCancelledError || (transient && options.signal?.aborted)) {
        log.info({ ...fields, outcome: 'retrying' }, 'operation cut by shutdown before its next CHeKT request; another worker retries it');
        throw err;
      }
      if (transient) {
        // A long outage retries every pending contact about once a minute: warn for the first attempts and every
        // tenth, so the log shows the outage without one line per contact per minute.
        const level = fields.attempt <= 5 || fields.attempt % 10 === 0 ? 'warn' : 'debug';
        log[level]({ ...fields, outcome: 'retrying', err }, 'operation failed; will retry');
        throw err;
      }
      log.warn({ ...fields, outcome: 'failed', err }, 'operation failed');
      await assertOwner();
      const reason = err instanceof Error ? err.message : String(err);
      await recordFailure(options, job, reason, state);
      throw new UnrecoverableError(reason);
    }
  };
}

/** Records a permanent failure: the ledger's failure record goes in the statement that settles the operation. */
async function recordFailure(options: ProcessorOptions, job: Job<OperationJobData>, reason: string, state: PassState): Promise<void> {
  const d = job.data;
  const now = options.deps.now();
  await settle(options, {
    opKey: String(job.id),
    outcome: 'failed',
    appliedKind: d.kind,
    error: reason,
    attempts: job.attemptsMade + 1,
    readAt: state.readAt,
    now,
    ledger: {
      site: { dealerId: d.dealerId, siteId: d.siteId },
      externalContactId: d.externalContactId,
      kind: d.kind,
      outcome: 'failed',
      error: reason,
      failedHash: d.kind === 'delete' ? DELETE_FAILED : (state.fingerprint ?? DELETE_FAILED),
      runId: d.runId,
      now,
    },
  });
}

/** Settles the operation (source/runs.ts `finishOperation`) and has the runs it left open checked after the commit. */
async function settle(options: ProcessorOptions, op: Parameters<typeof finishOperation>[1]): Promise<{ stillQueued: boolean }> {
  const { db } = options.deps;
  const settled = await finishOperation(sqlOf(options.deps), op);
  if (settled.openRunIds.length > 0) {
    if (options.runCompletion) options.runCompletion.checkLater(settled.openRunIds);
    else await completeRunsIfDone(db, settled.openRunIds, options.deps.now());
  }
  return settled;
}

/** The statement runner of the two per-operation statements: the pool's direct one when given. */
function sqlOf(deps: ApplyDeps): RunSql {
  return deps.sql ?? viaPrisma(deps.db);
}

/** How often one job applies again because a run planned newer CRM data while it ran. */
const MAX_PASSES = 3;

/** What the current pass read: the failure path records it. */
interface PassState {
  fingerprint: string | null;
  readAt: Date;
}

/**
 * Applies the operation (with in-attempt retries) and settles the runs waiting on it. When a run planned
 * newer CRM data while this job was running, its operation is still queued afterwards: apply again (the
 * worker re-reads the CRM), up to {@link MAX_PASSES} times. Latest CRM state wins; no run reports success on
 * older values. `assertOwner` runs before the ledger write (fencing).
 */
async function applyUntilCurrent(
  options: ProcessorOptions,
  op: OperationJobData & { opKey: string; enqueuedAt: number },
  earlierTry: boolean,
  attempt: number,
  state: PassState,
  assertOwner: () => Promise<void>,
): Promise<ApplyResult & { passes: number }> {
  const { deps } = options;
  let last: ApplyResult | undefined;
  let passes = 0;
  while (passes < MAX_PASSES) {
    passes += 1;
    const applied = await pRetry(
      async (n) => {
        const ctx = await readOperationContext(sqlOf(deps), op, deps.rules);
        state.fingerprint = ctx.fingerprint;
        state.readAt = ctx.readAt;
        return applyOperation(deps, op, ctx, earlierTry || passes > 1 || n > 1);
      },
      {
        retries: options.innerRetries ?? 2,
        factor: 2,
        minTimeout: options.innerMinTimeoutMs ?? 250,
        maxTimeout: 5_000,
        randomize: true,
        // A handed-back 429, a lost lock and a shutdown end the attempt at once.
        // Not p-retry's `signal`: it rejects at once on abort, while a request already sent is still in flight
        // (its answer would then go unrecorded). A stop only ends the quick retries.
        shouldRetry: ({ error }) =>
          !options.signal?.aborted &&
          isChektError(error) &&
          error.retryable &&
          !(error instanceof ChektCancelledError) &&
          !(error instanceof ChektRateLimitedError && (error.retryAfterMs ?? 0) > (options.maxRetryAfterMs ?? 30_000)),
      },
    );
    last = applied.result;
    if (last.outcome === 'wait') return { ...last, passes };
    await assertOwner();
    const { stillQueued } = await settle(options, {
      opKey: op.opKey,
      outcome: last.outcome,
      appliedKind: last.appliedKind,
      error: last.detail,
      attempts: attempt,
      readAt: state.readAt,
      now: deps.now(),
      ...(applied.ledger ? { ledger: applied.ledger } : {}),
    });
    if (!stillQueued) break;
  }
  return { ...last!, passes };
}
