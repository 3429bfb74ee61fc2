import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import pRetry from 'p-retry';
import { isChektError } from '../chekt/errors/index.js';
import type { Logger } from '../logger.js';
import type { OperationJobData } from '../queue/jobs.js';
import { DELETE_FAILED } from '../source/changes.js';
import { readOperationContext } from '../source/operationContext.js';
import { finishOperation } from '../source/runs.js';
import { applyOperation, type ApplyDeps, type ApplyResult } from './applyOperation.js';
import { withCallLog } from './callContext.js';

/**
 * The queue edge for operation jobs: retries transient failures inside the attempt (p-retry, exponential
 * backoff with jitter), lets BullMQ retry across attempts (its own exponential backoff with jitter), and
 * gives up at once with `UnrecoverableError` when retrying cannot help (400, 403, 404 on create, 409 that
 * cannot be adopted, bad response), keeping the reason in the ledger, the run and the job. A contact that
 * failed for good is planned again only when its CRM row changes or after `FAILED_RETRY_COOLDOWN_SECONDS`.
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
}

/** Builds the BullMQ processor function for the operations queue. */
export function createOperationProcessor(options: ProcessorOptions): (job: Job<OperationJobData>, token?: string) => Promise<ApplyResult & { passes: number }> {
  const { deps, logger } = options;
  return async (job, token) => {
    const d = job.data;
    const log = logger.child({ runId: d.runId, jobId: job.id, dealerId: d.dealerId, siteId: d.siteId, externalContactId: d.externalContactId });
    const started = Date.now();
    const earlierTry = job.attemptsStarted > 1 || job.attemptsMade > 0;
    const attempts = job.opts.attempts ?? 1;
    const state: PassState = { fingerprint: null, readAt: new Date(0) };
    const { calls, result } = withCallLog(() => applyUntilCurrent(options, { ...d, opKey: String(job.id), enqueuedAt: job.timestamp }, earlierTry, job.attemptsMade + 1, state));
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
      const retryable = isChektError(err) ? err.retryable : true;
      const final = !retryable || job.attemptsMade + 1 >= attempts;
      const reason = err instanceof Error ? err.message : String(err);
      const fields = { kind: d.kind, outcome: final ? 'failed' : 'retrying', attempt: job.attemptsMade + 1, attempts, traceIds: traceIds(), durationMs: Date.now() - started, err };
      if (!final) {
        log.warn(fields, 'operation failed; will retry');
        throw err;
      }
      log.warn(fields, 'operation failed');
      // The ledger's failure record goes in the statement that settles the operation.
      await finishOperation(deps.db, {
        opKey: String(job.id),
        outcome: 'failed',
        appliedKind: d.kind,
        error: reason,
        attempts: job.attemptsMade + 1,
        readAt: state.readAt,
        now: deps.now(),
        ledger: {
          site: { dealerId: d.dealerId, siteId: d.siteId },
          externalContactId: d.externalContactId,
          kind: d.kind,
          outcome: 'failed',
          error: reason,
          failedHash: d.kind === 'delete' ? DELETE_FAILED : (state.fingerprint ?? DELETE_FAILED),
          runId: d.runId,
          now: deps.now(),
        },
      });
      throw new UnrecoverableError(reason);
    }
  };
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
 * older values.
 */
async function applyUntilCurrent(
  options: ProcessorOptions,
  op: OperationJobData & { opKey: string; enqueuedAt: number },
  earlierTry: boolean,
  attempt: number,
  state: PassState,
): Promise<ApplyResult & { passes: number }> {
  const { deps } = options;
  let last: ApplyResult | undefined;
  let passes = 0;
  while (passes < MAX_PASSES) {
    passes += 1;
    const applied = await pRetry(
      async (n) => {
        const ctx = await readOperationContext(deps.db, op, deps.rules);
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
        shouldRetry: ({ error }) => isChektError(error) && error.retryable,
      },
    );
    last = applied.result;
    if (last.outcome === 'wait') return { ...last, passes };
    const { stillQueued } = await finishOperation(deps.db, {
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
