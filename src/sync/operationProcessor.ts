import { UnrecoverableError, type Job } from 'bullmq';
import pRetry from 'p-retry';
import { isChektError } from '../chekt/errors/index.js';
import type { Logger } from '../logger.js';
import type { OperationJobData } from '../queue/jobs.js';
import { writeLedger } from '../source/ledger.js';
import { finishOperation } from '../source/runs.js';
import { applyOperation, type ApplyDeps, type ApplyResult } from './applyOperation.js';
import { withCallLog } from './callContext.js';

/**
 * The queue edge for operation jobs: retries transient failures inside the attempt (p-retry, exponential
 * backoff with jitter), lets BullMQ retry across attempts (its own exponential backoff with jitter), and
 * gives up at once with `UnrecoverableError` when retrying cannot help (400, 403, 404 on create, 409 that
 * cannot be adopted, bad response), keeping the reason in the ledger, the run and the job.
 */

/** Settings of {@link createOperationProcessor}. */
export interface ProcessorOptions {
  readonly deps: ApplyDeps;
  readonly logger: Logger;
  /** Retries inside one BullMQ attempt for retryable errors. Default 2. */
  readonly innerRetries?: number;
  /** First inner backoff delay in ms (doubled per retry, randomised). Default 250. */
  readonly innerMinTimeoutMs?: number;
}

/** Builds the BullMQ processor function for the operations queue. */
export function createOperationProcessor(options: ProcessorOptions): (job: Job<OperationJobData>) => Promise<ApplyResult> {
  const { deps, logger } = options;
  return async (job) => {
    const d = job.data;
    const log = logger.child({ runId: d.runId, jobId: job.id, dealerId: d.dealerId, siteId: d.siteId, externalContactId: d.externalContactId });
    const started = Date.now();
    const earlierTry = job.attemptsStarted > 1 || job.attemptsMade > 0;
    const { calls, result } = withCallLog(() =>
      pRetry((n) => applyOperation(deps, d, earlierTry || n > 1), {
        retries: options.innerRetries ?? 2,
        factor: 2,
        minTimeout: options.innerMinTimeoutMs ?? 250,
        maxTimeout: 5_000,
        randomize: true,
        shouldRetry: ({ error }) => isChektError(error) && error.retryable,
      }),
    );
    const traceIds = () => calls.map((c) => c.traceId);
    try {
      const r = await result;
      await finishOperation(deps.db, { opKey: String(job.id), outcome: r.outcome, appliedKind: r.appliedKind, error: r.detail, attempts: job.attemptsMade + 1, now: deps.now() });
      log.info({ kind: d.kind, appliedKind: r.appliedKind, outcome: r.outcome, reason: r.detail ?? undefined, traceIds: traceIds(), durationMs: Date.now() - started }, 'operation done');
      return r;
    } catch (err) {
      const retryable = isChektError(err) ? err.retryable : true;
      const attempts = job.opts.attempts ?? 1;
      const final = !retryable || job.attemptsMade + 1 >= attempts;
      const reason = err instanceof Error ? err.message : String(err);
      const fields = { kind: d.kind, outcome: final ? 'failed' : 'retrying', attempt: job.attemptsMade + 1, attempts, traceIds: traceIds(), durationMs: Date.now() - started, err };
      if (!final) {
        log.warn(fields, 'operation failed; will retry');
        throw err;
      }
      log.warn(fields, 'operation failed');
      await writeLedger(deps.db, { site: { dealerId: d.dealerId, siteId: d.siteId }, externalContactId: d.externalContactId, kind: d.kind, outcome: 'failed', error: reason, runId: d.runId, now: deps.now() });
      await finishOperation(deps.db, { opKey: String(job.id), outcome: 'failed', appliedKind: d.kind, error: reason, attempts: job.attemptsMade + 1, now: deps.now() });
      throw new UnrecoverableError(reason);
    }
  };
}
