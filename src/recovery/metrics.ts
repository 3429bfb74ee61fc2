import type { RedisClient as Redis } from '../queue/connection.js';
import { Counter, Gauge, type Registry } from 'prom-client';
import { readCompletion } from './completions.js';

/**
 * Metrics of the recovery parts (docs/OPERATIONS-FAULTS.md#metrics), registered on the app's registry (metrics.ts):
 * - `chekt_sync_last_change_tick_timestamp_seconds`, `chekt_sync_last_reconcile_timestamp_seconds` (gauges, unix
 *   seconds, read from Redis on scrape, so every process reports the same; 0 when none completed since Redis
 *   was emptied): when a scheduled change tick or reconcile last completed;
 * - `chekt_sync_listener_up` (gauge, this process): 1 while the CRM-change listener is connected and its heartbeat
 *   comes back, 0 otherwise; `chekt_sync_listener_reconnects_total` (counter);
 * - `chekt_sync_recoveries_total{what}` (counter, this process): `scheduler` (a missing job scheduler upserted
 *   again), `orphans` (operations of a run enqueued again), `dropped_job` (an unreadable job rebuilt from PostgreSQL).
 */
export interface RecoveryMetrics {
  readonly listenerUp: Gauge;
  readonly listenerReconnects: Counter;
  readonly recoveries: Counter<'what'>;
}

/** Registers the metrics above; `redis` and `prefix` locate the completion stamps (./schedulers.ts). */
export function registerRecoveryMetrics(registry: Registry, deps: { redis: Redis; prefix: string }): RecoveryMetrics {
  const registers = [registry];
  new Gauge({
    name: 'chekt_sync_last_change_tick_timestamp_seconds',
    help: 'When a scheduled change tick last completed (unix seconds; 0 when none since Redis was emptied)',
    registers,
    async collect() {
      this.set(await readCompletion(deps.redis, deps.prefix, 'tick'));
    },
  });
  new Gauge({
    name: 'chekt_sync_last_reconcile_timestamp_seconds',
    help: 'When a scheduled reconcile last completed (unix seconds; 0 when none since Redis was emptied)',
    registers,
    async collect() {
      this.set(await readCompletion(deps.redis, deps.prefix, 'reconcile'));
    },
  });
  return {
    listenerUp: new Gauge({ name: 'chekt_sync_listener_up', help: 'The CRM-change listener of this process is connected and its heartbeat comes back (1) or not (0)', registers }),
    listenerReconnects: new Counter({ name: 'chekt_sync_listener_reconnects_total', help: 'Times the CRM-change listener of this process connected again after losing its connection', registers }),
    recoveries: new Counter({ name: 'chekt_sync_recoveries_total', help: 'Repairs of lost Redis state by this process: scheduler, orphans, dropped_job', labelNames: ['what'], registers }),
  };
}
