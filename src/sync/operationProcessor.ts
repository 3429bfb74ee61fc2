import { UnrecoverableError, type Job } from 'bullmq';
import pRetry from 'p-retry';
import { isChektError } from '../chekt/errors/index.js';
import type { Logger } from '../logger.js';
import type { OperationJobData } from '../queue/jobs.js';
import { writeLedger } from '../source/ledger.js';
import { dbNow, finishOperation, hasQueued } from '../source/runs.js';
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
    const attempts = job.opts.attempts ?? 1;
    const { calls, result } = withCallLog(() => applyUntilCurrent(options, String(job.id), d, earlierTry, job.attemptsMade + 1));
    const traceIds = () => calls.map((c) => c.traceId);
    try {
      const r = await result;
      log.info({ kind: d.kind, appliedKind: r.appliedKind, outcome: r.outcome, reason: r.detail ?? undefined, passes: r.passes, traceIds: traceIds(), durationMs: Date.now() - started }, 'operation done');
      return r;
    } catch (err) {
      const retryable = isChektError(err) ? err.retryable : true;
      const final = !retryable || job.attemptsMade + 1 >= attempts;
      const reason = err instanceof Error ? err.message : String(err);
      const fields = { kind: d.kind, outcome: final ? 'failed' : 'retrying', attempt: job.attemptsMade + 1, attempts, traceIds: traceIds(), durationMs: Date.now() - started, err };
      if (!final) {
        log.warn(fields, 'operation failed; will retry');
        throw err;
      }
      log.warn(fields, 'operation failed');
      await writeLedger(deps.db, { site: { dealerId: d.dealerId, siteId: d.siteId }, externalContactId: d.externalContactId, kind: d.kind, outcome: 'failed', error: reason, runId: d.runId, now: deps.now() });
      await finishOperation(deps.db, { opKey: String(job.id), outcome: 'failed', appliedKind: d.kind, error: reason, attempts: job.attemptsMade + 1, readAt: failedReadAt(err), now: deps.now() });
      throw new UnrecoverableError(reason);
    }
  };
}

/** How often one job applies again because a run planned newer CRM data while it ran. */
const MAX_PASSES = 3;

/** Outcome of {@link applyUntilCurrent}. */
type PassResult = ApplyResult & { readonly passes: number };

/**
 * Applies the operation (with in-attempt retries) and settles the runs waiting on it. When a run planned
 * newer CRM data while this job was running, its operation is still queued afterwards: apply again (the
 * worker re-reads the CRM), up to {@link MAX_PASSES} times. Latest CRM state wins; no run reports success on
 * older values. A failure carries the read time of its pass (see {@link failedReadAt}).
 */
async function applyUntilCurrent(options: ProcessorOptions, opKey: string, d: OperationJobData, earlierTry: boolean, attempt: number): Promise<PassResult> {
  const { deps } = options;
  let last: ApplyResult | undefined;
  let passes = 0;
  while (passes < MAX_PASSES) {
    passes += 1;
    const readAt = await dbNow(deps.db);
    try {
      last = await pRetry((n) => applyOperation(deps, d, earlierTry || passes > 1 || n > 1), {
        retries: options.innerRetries ?? 2,
        factor: 2,
        minTimeout: options.innerMinTimeoutMs ?? 250,
        maxTimeout: 5_000,
        randomize: true,
        shouldRetry: ({ error }) => isChektError(error) && error.retryable,
      });
    } catch (err) {
      throw Object.assign(err as object, { [READ_AT]: readAt });
    }
    await finishOperation(deps.db, { opKey, outcome: last.outcome, appliedKind: last.appliedKind, error: last.detail, attempts: attempt, readAt, now: deps.now() });
    if (!(await hasQueued(deps.db, opKey))) break;
  }
  return { ...last!, passes };
}

const READ_AT = Symbol('readAt');

/** The CRM read time of the pass that failed; settles only runs that planned no newer data. */
function failedReadAt(err: unknown): Date {
  const at = (err as { [READ_AT]?: Date } | null)?.[READ_AT];
  return at ?? new Date(0);
}
