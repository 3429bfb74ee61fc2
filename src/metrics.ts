import type { Job, Worker } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PrismaClient } from './source/db.js';

/**
 * Prometheus metrics (prom-client), served by `GET /metrics`. One {@link Registry} per app, created by
 * `createApp` (no module singletons). Counters are incremented by the hooks app.ts wires in (CHeKT client
 * `onCall`, the operation worker's events, the rate limiter's `onWait`, the token provider's `onRenew`); gauges
 * of shared state (queues, holds, freshness) are read from Redis and PostgreSQL on each scrape, so every process
 * reports the same values for them.
 */

/** The metrics of one app. Durations are in seconds (Prometheus base unit). */
export interface Metrics {
  readonly registry: Registry;
  /** `chekt_sync_operations_total{kind,outcome}`: operations finished by this process's workers. */
  readonly operations: Counter<'kind' | 'outcome'>;
  /** `chekt_sync_operation_duration_seconds{kind}`: processing time of one operation job attempt. */
  readonly operationDuration: Histogram<'kind'>;
  /** `chekt_sync_chekt_calls_total{endpoint,status}`: HTTP exchanges with CHeKT; `status` is `none` without a response. */
  readonly chektCalls: Counter<'endpoint' | 'status'>;
  /** `chekt_sync_chekt_call_duration_seconds{endpoint}`. */
  readonly chektCallDuration: Histogram<'endpoint'>;
  /** `chekt_sync_rate_limit_wait_seconds_total`: time callers waited for the shared CHeKT rate limit. */
  readonly rateLimitWait: Counter;
  /** `chekt_sync_token_renewals_total{outcome}`: token requests (`succeeded` or `failed`). */
  readonly tokenRenewals: Counter<'outcome'>;
}

/** A queue whose job counts are reported (a BullMQ `Queue`). */
export interface CountedQueue {
  readonly name: string;
  getJobCounts(): Promise<Record<string, number>>;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Read on scrape for `sync_holds` and `sync_ledger.pending_since`. */
  readonly db: PrismaClient;
  /** Queues whose job counts per state are read on scrape (`chekt_sync_queue_jobs`). */
  readonly queues: readonly CountedQueue[];
  /**
   * Counts enabled sites without an SMS-capable contact, read on scrape (`chekt_sync_sites_unreachable`;
   * source/reach.ts). Absent: the gauge is not registered.
   */
  readonly unreachableSites?: () => Promise<number>;
  /** Also register prom-client's default process metrics (CPU, memory, event loop, GC). Default true. */
  readonly defaultMetrics?: boolean;
}

/** Buckets of the duration histograms, in seconds: 5 ms to 30 s (a CHeKT call times out at `CHEKT_TIMEOUT_MS`, 15 s). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Creates the registry and every metric in it. A scrape (`registry.metrics()`) runs one `getJobCounts()` per queue,
 * one `count(*)` on `sync_holds` and one `min(pending_since)` on `sync_ledger` (a partial index serves it); if
 * one of them fails, the scrape fails (Prometheus records `up == 0`) rather than report stale values.
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const { db, queues } = options;
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'chekt_sync_queue_jobs',
    help: 'Jobs per BullMQ queue and state (waiting, active, delayed, failed, completed, ...), read on scrape',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      const counts = await Promise.all(queues.map(async (q) => [q.name, await q.getJobCounts()] as const));
      this.reset();
      for (const [queue, byState] of counts) for (const [state, n] of Object.entries(byState)) this.set({ queue, state }, n);
    },
  });
  new Gauge({
    name: 'chekt_sync_sites_on_hold',
    help: 'CHeKT sites whose deletes are held until an operator approves them (rows of sync_holds)',
    registers,
    async collect() {
      this.set(await db.syncHold.count());
    },
  });
  new Gauge({
    name: 'chekt_sync_oldest_unsynced_change_age_seconds',
    help: 'Age of the oldest planned but not yet applied contact change (now - min(sync_ledger.pending_since)); 0 when none',
    registers,
    async collect() {
      this.set(await oldestPendingAgeSeconds(db));
    },
  });

  const countUnreachable = options.unreachableSites;
  if (countUnreachable) {
    new Gauge({
      name: 'chekt_sync_sites_unreachable',
      help: 'Enabled sites without a contact CHeKT can text its verification link to (no SMS-capable phone), read on scrape',
      registers,
      async collect() {
        this.set(await countUnreachable());
      },
    });
  }

  return {
    registry,
    operations: new Counter({ name: 'chekt_sync_operations_total', help: 'Contact operations finished by this process, by applied kind and outcome', labelNames: ['kind', 'outcome'], registers }),
    operationDuration: new Histogram({
      name: 'chekt_sync_operation_duration_seconds',
      help: 'Processing time of one operation job attempt',
      labelNames: ['kind'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    chektCalls: new Counter({
      name: 'chekt_sync_chekt_calls_total',
      help: 'HTTP exchanges with the CHeKT API by endpoint and status (none: no response)',
      labelNames: ['endpoint', 'status'],
      registers,
    }),
    chektCallDuration: new Histogram({
      name: 'chekt_sync_chekt_call_duration_seconds',
      help: 'Duration of one HTTP exchange with the CHeKT API',
      labelNames: ['endpoint'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    rateLimitWait: new Counter({ name: 'chekt_sync_rate_limit_wait_seconds_total', help: 'Time spent waiting for the shared CHeKT rate limit (and 429 pauses)', registers }),
    tokenRenewals: new Counter({ name: 'chekt_sync_token_renewals_total', help: 'Access token requests to the CHeKT token endpoint by outcome', labelNames: ['outcome'], registers }),
  };
}

/**
 * Counts the operation worker's jobs from its events, so the processor itself needs no metrics code:
 * - `completed`: `{kind: appliedKind, outcome}` from the job's return value (the applied kind can differ from the
 *   planned one, e.g. an update that became a create);
 * - `failed`: `{kind: planned kind, outcome: 'failed'}` when BullMQ gives up (`UnrecoverableError` or the last
 *   attempt), else `outcome: 'retrying'`.
 * The duration of each attempt (from `processedOn`, epoch ms) goes to `chekt_sync_operation_duration_seconds`.
 */
export function observeOperationWorker<T extends { readonly kind: string }>(worker: Worker<T>, metrics: Metrics): void {
  const observe = (job: Job<T>, kind: string, outcome: string) => {
    metrics.operations.inc({ kind, outcome });
    if (job.processedOn) metrics.operationDuration.observe({ kind }, Math.max(0, Date.now() - job.processedOn) / 1000);
  };
  worker.on('completed', (job, result: unknown) => {
    const r = (result ?? {}) as { appliedKind?: unknown; outcome?: unknown };
    observe(job, typeof r.appliedKind === 'string' ? r.appliedKind : job.data.kind, typeof r.outcome === 'string' ? r.outcome : 'succeeded');
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    // 'failed' is emitted after BullMQ counted the attempt (attemptsMade already includes it).
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    observe(job, job.data.kind, final ? 'failed' : 'retrying');
  });
}

/** Seconds since the oldest `sync_ledger.pending_since` (database clock), 0 when no change is pending. */
export async function oldestPendingAgeSeconds(db: PrismaClient): Promise<number> {
  const rows = await db.$queryRaw<Array<{ age: number }>>`
    SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(pending_since)), 0)::float8 AS age FROM sync_ledger`;
  return Math.max(0, rows[0]?.age ?? 0);
}
