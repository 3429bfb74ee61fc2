import pg from 'pg';
import type { Logger } from '../logger.js';

/**
 * Near real time (issue "Performance", point 2): the migration's triggers send the CRM `sites.id` of every
 * committed change of `contacts` or `sites` on channel {@link CHANNEL}. This listener gathers them for
 * `debounceMs`, then hands the distinct site ids to `onSites` once (coalesced per site). A lost connection is
 * opened again with backoff, and `onReconnect` is called because notifications sent meanwhile are lost
 * (the caller plans every site then; the scheduled tick remains the safety net).
 */

/** The NOTIFY channel the migration's triggers use. */
export const CHANNEL = 'chekt_contact_sync';

/** Options of {@link listenForChanges}. */
export interface ListenOptions {
  readonly databaseUrl: string;
  /** Gathering window in ms (config `NOTIFY_DEBOUNCE_MS`, default 500). */
  readonly debounceMs: number;
  readonly logger: Logger;
  /** Receives the distinct CRM site ids of one window. Errors are logged; the ids are not retried (the tick is). */
  readonly onSites: (crmSiteIds: string[]) => Promise<void>;
  /** Called after the connection was lost and opened again. */
  readonly onReconnect: () => Promise<void>;
}

/** A running listener. */
export interface ChangeListener {
  /** Resolves once LISTEN is in place. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** Starts listening; see the module comment. */
export function listenForChanges(options: ListenOptions): ChangeListener {
  const log = options.logger.child({ component: 'crm-notifications' });
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let client: pg.Client | undefined;
  let closed = false;
  let failures = 0;

  const flush = () => {
    timer = undefined;
    const ids = [...pending];
    pending.clear();
    if (ids.length > 0) options.onSites(ids).catch((err) => log.error({ err, sites: ids.length }, 'cannot plan notified changes'));
  };

  const connect = async (isReconnect: boolean): Promise<void> => {
    const c = new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 10_000 });
    c.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      pending.add(msg.payload);
      timer ??= setTimeout(flush, options.debounceMs);
    });
    c.on('error', (err) => {
      log.warn({ err }, 'notification connection lost; reconnecting');
      void c.end().catch(() => undefined);
      if (client === c) reconnect();
    });
    await c.connect();
    await c.query(`LISTEN ${CHANNEL}`);
    client = c;
    failures = 0;
    if (isReconnect) {
      log.info('listening for CRM changes again; planning every site once');
      await options.onReconnect().catch((err) => log.error({ err }, 'cannot plan after reconnecting'));
    }
  };

  const reconnect = () => {
    client = undefined;
    if (closed) return;
    failures += 1;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
    setTimeout(() => {
      if (!closed) connect(true).catch((err) => {
        log.warn({ err, retryInMs: delay }, 'cannot listen for CRM changes');
        reconnect();
      });
    }, delay).unref();
  };

  const ready = connect(false).catch((err) => {
    log.warn({ err }, 'cannot listen for CRM changes; the tick still plans them');
    reconnect();
  });

  return {
    ready,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}
