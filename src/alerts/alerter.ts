import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { NormalizeRules } from '../domain/contact.js';
import type { CountedContact } from '../domain/reach.js';
import type { Logger } from '../logger.js';
import type { CrmSource } from '../source/crm/database.js';
import type { PrismaClient, RunSql } from '../source/db.js';
import { detectChanges } from './detect.js';
import { deliverDue } from './deliver.js';

/**
 * The alerter of one service process (docs/CONSOLE.md "Alerts"): every `ALERT_CHECK_INTERVAL_MS` it detects state
 * changes (alerts/detect.ts, deduplicated across processes through PostgreSQL) and delivers due alerts
 * (alerts/deliver.ts). It runs on its own timer and catches its own errors, so a slow or dead webhook, or a failed
 * pass, never blocks or fails the sync.
 */

/** A running alerter. */
export interface Alerter {
  /** Runs one detection and delivery pass now (tests; the timer calls it too). Never throws. */
  tick(): Promise<void>;
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

/** Options of {@link startAlerter}. */
export interface AlerterOptions {
  readonly db: PrismaClient;
  /** The CRM and the ledger, for unreachable sites (source/reach.ts). */
  readonly sql: RunSql;
  readonly crm: CrmSource;
  readonly config: Config['alerts'] & { readonly webhookUrl: string };
  readonly logger: Logger;
  /** Registry for `chekt_sync_alerts_total{event,outcome}` (outcome `delivered`, `retrying`, `dead`). */
  readonly registry: Registry;
  /** The service's phone rules, for unreachable sites (`site.unreachable`, `site.reachable`). */
  readonly phoneRules: NormalizeRules;
}

/** Starts the alerter's timer (unref'd: it never keeps the process alive). */
export function startAlerter(o: AlerterOptions): Alerter {
  const log = o.logger.child({ component: 'alerts' });
  const counter =
    (o.registry.getSingleMetric('chekt_sync_alerts_total') as Counter<'event' | 'outcome'> | undefined) ??
    new Counter({
      name: 'chekt_sync_alerts_total',
      help: 'Webhook alert delivery attempts by this process, by event and outcome (delivered, retrying, dead)',
      labelNames: ['event', 'outcome'],
      registers: [o.registry],
    });
  const reachCache = new Map<string, CountedContact>();
  let running: Promise<void> | null = null;
  let stopped = false;
  const pass = async () => {
    try {
      const facts = await detectChanges(o.db, {
        behindSeconds: o.config.behindSeconds,
        failureBatchSeconds: o.config.failureBatchSeconds,
        phoneRules: o.phoneRules,
        reachCache,
        reach: { crm: o.crm, sql: o.sql },
      });
      for (const f of facts) log.info({ event: f.event, site: 'site' in f ? f.site : undefined }, 'alert queued');
    } catch (err) {
      log.error({ err }, 'alert detection failed; will try again');
    }
    try {
      await deliverDue({
        db: o.db,
        url: o.config.webhookUrl,
        secret: o.config.webhookSecret,
        timeoutMs: o.config.timeoutMs,
        maxAttempts: o.config.maxAttempts,
        retryBackoffMs: o.config.retryBackoffMs,
        onAttempt: (a) => {
          counter.inc({ event: a.event, outcome: a.outcome });
          if (a.outcome === 'dead') log.error({ alertId: a.id, event: a.event, error: a.error, attempts: o.config.maxAttempts }, 'alert webhook gave up: alert dropped');
          else if (a.outcome === 'retrying') log.warn({ alertId: a.id, event: a.event, error: a.error }, 'alert webhook failed; will retry');
        },
      });
    } catch (err) {
      log.error({ err }, 'alert delivery failed; will try again');
    }
  };
  const tick = () => (running ??= pass().finally(() => (running = null)));
  const timer = setInterval(() => {
    if (!stopped) void tick();
  }, o.config.checkIntervalMs);
  timer.unref();
  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
