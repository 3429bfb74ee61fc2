import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectionConfig } from '../source/pgConnection.js';
import type { Logger } from '../logger.js';

/**
 * Near real time (docs/ARCHITECTURE.md#layout-and-flow, "Change tick"): the migration's triggers send the CRM `sites.id` of every
 * committed change of `contacts` or `sites` on channel {@link CHANNEL}. This listener gathers them for
 * `debounceMs`, then hands the distinct site ids to `onSites` once (coalesced per site).
 *
 * A LISTEN connection can die without a sign: a NAT or firewall that drops its state, or a failover, leaves the
 * socket open with nothing arriving (no FIN, no RST), and a listener only receives, so it never notices
 * (docs/OPERATIONS-FAULTS.md#the-listen-connection-dies-silently). Hence a heartbeat: every `heartbeatMs` a `NOTIFY` on a channel of this listener's own is sent from
 * another session (`sendHeartbeat`: the service's pool), as the CRM's triggers do, and when one has not arrived
 * `heartbeatMs` later, the connection is destroyed and opened again. Another session, not the listener's own:
 * behind PgBouncer in transaction mode a self-`NOTIFY` comes back (it runs on the very server connection that
 * holds the LISTEN) while every other session's notifications are lost, measured with PgBouncer 1.18. TCP keepalive is on as well. After every reconnect `onReconnect` is called, because
 * notifications sent meanwhile are lost (the caller plans a change tick at once). The heartbeat also catches a
 * pooler that cannot carry LISTEN (PgBouncer in transaction mode): the heartbeat never arrives, the listener
 * reports `down` and says so (docs/OPERATIONS-FAULTS.md).
 */

/** The NOTIFY channel the migration's triggers use. */
export const CHANNEL = 'chekt_contact_sync';

/** The start of a payload that names no CRM site (`*schema.table`): every site may have changed. */
export const UNKNOWN_SITE = '*';

/**
 * `listening`: LISTEN is in place and a heartbeat sent from another session arrived on it; `down`: connecting, or
 * connected but not (yet) proven by a heartbeat.
 */
export type ListenerState = 'listening' | 'down';

/** Options of {@link listenForChanges}. */
export interface ListenOptions {
  /** Config `LISTEN_DATABASE_URL` (default `DATABASE_URL`): a direct or session-pooled connection. */
  readonly databaseUrl: string;
  /** Gathering window in ms (config `NOTIFY_DEBOUNCE_MS`, default 500). */
  readonly debounceMs: number;
  /** Heartbeat period and timeout in ms (config `LISTEN_HEARTBEAT_MS`, default 5,000). */
  readonly heartbeatMs?: number;
  /**
   * Sends `NOTIFY channel, payload` from a session other than the listener's (`SELECT pg_notify($1, $2)` on the
   * service's pool). Default: the listener's own connection, which cannot see a transaction-mode pooler.
   */
  readonly sendHeartbeat?: (channel: string, payload: string) => Promise<unknown>;
  readonly logger: Logger;
  /** Receives the distinct CRM site ids of one window. Errors are logged; the ids are not retried (the tick is). */
  readonly onSites: (crmSiteIds: string[]) => Promise<void>;
  /**
   * Receives a window whose notifications include one that names no site (an empty payload, or `*schema.table`
   * from a trigger on a CRM base table): plan every site's changes. Errors are logged.
   */
  readonly onAnyChange: () => Promise<void>;
  /** Called after the connection was lost and opened again. */
  readonly onReconnect: () => Promise<void>;
  /** Called on every state change (metrics). */
  readonly onState?: (state: ListenerState) => void;
}

/** A running listener. */
export interface ChangeListener {
  /** Resolves once the first connection attempt finished (LISTEN in place, or reconnecting in the background). */
  readonly ready: Promise<void>;
  /** The current state. */
  readonly state: ListenerState;
  close(): Promise<void>;
}

/** Starts listening; see the module comment. */
export function listenForChanges(options: ListenOptions): ChangeListener {
  const log = options.logger.child({ component: 'crm-notifications' });
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  // A channel of this process's own: other processes' heartbeats never reach it.
  const heartbeatChannel = `chekt_contact_sync_hb_${randomBytes(6).toString('hex')}`;
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let client: pg.Client | undefined;
  let closed = false;
  let failures = 0;
  let state: ListenerState = 'down';
  let beat: NodeJS.Timeout | undefined;
  /** The heartbeat in flight: its payload, whether its NOTIFY committed, and since when it is awaited (ms). */
  let outstanding: { payload: string; sent: boolean; since: number } | undefined;
  /** Heartbeats answered on the current connection (0 = never: a pooler may be eating them). */
  let answered = 0;
  /** The current connection replaces a lost one: plan a change tick once a heartbeat proves it. */
  let replacing = false;

  const setState = (next: ListenerState) => {
    if (next === state) return;
    state = next;
    options.onState?.(next);
  };

  const flush = () => {
    timer = undefined;
    const ids = [...pending];
    pending.clear();
    // A payload starting with "*" names a table, not a site (the opt-in triggers on a CRM's base tables,
    // `npm run crm:triggers`): every site may have changed, so one change tick of every site runs.
    if (ids.some((id) => id.startsWith(UNKNOWN_SITE))) options.onAnyChange().catch((err) => log.error({ err }, 'cannot plan notified changes'));
    else if (ids.length > 0) options.onSites(ids).catch((err) => log.error({ err, sites: ids.length }, 'cannot plan notified changes'));
  };

  /** Drops a connection at once: a black-holed socket would make `end()` wait for an answer that never comes. */
  const destroy = (c: pg.Client) => {
    (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    void c.end().catch(() => undefined);
  };

  const lose = (c: pg.Client, why: string, fields: Record<string, unknown> = {}) => {
    if (client !== c) return;
    client = undefined;
    if (beat) clearInterval(beat);
    beat = undefined;
    outstanding = undefined;
    setState('down');
    if (!closed) log.warn({ ...fields, reason: why }, 'CRM notification connection lost; reconnecting (the change tick covers the gap)');
    destroy(c);
    reconnect();
  };

  const heartbeat = (c: pg.Client) => {
    if (client !== c) return;
    if (outstanding) {
      // Judged only once its NOTIFY committed: a slow pool must not look like a dead listener.
      const silentMs = Date.now() - outstanding.since;
      if (!outstanding.sent || silentMs < heartbeatMs) return;
      const pooled = answered === 0;
      lose(c, `no heartbeat for ${silentMs} ms`, {
        silentMs,
        ...(pooled
          ? {
              hint: 'no heartbeat ever came back on this connection: a pooler in transaction mode (PgBouncer) cannot carry LISTEN; point LISTEN_DATABASE_URL at PostgreSQL or a session pool (and at the same database as DATABASE_URL: notifications stay within one database)',
            }
          : {}),
      });
      return;
    }
    const sent = { payload: randomBytes(6).toString('hex'), sent: false, since: Date.now() };
    outstanding = sent;
    const own = !options.sendHeartbeat;
    const send = options.sendHeartbeat ?? ((channel: string, payload: string) => c.query('SELECT pg_notify($1, $2)', [channel, payload]));
    send(heartbeatChannel, sent.payload).then(
      () => {
        if (outstanding === sent) Object.assign(sent, { sent: true, since: Date.now() });
      },
      (err: Error) => {
        // On its own connection a failed send is the connection's failure; from the pool (PostgreSQL or the pool
        // down, which /readyz reports as postgres) it proves nothing about the listener: skip this beat.
        if (own) return lose(c, `heartbeat failed: ${err.message}`);
        if (outstanding === sent) outstanding = undefined;
        log.debug({ err: { message: err.message } }, 'cannot send the listener heartbeat');
      },
    );
  };

  const connect = async (isReconnect: boolean): Promise<void> => {
    const c = new pg.Client({
      ...connectionConfig(options.databaseUrl),
      connectionTimeoutMillis: Math.max(2 * heartbeatMs, 5_000),
      // A query unanswered this long means the connection is gone (pg destroys nothing by itself: lose() does).
      query_timeout: Math.max(2 * heartbeatMs, 5_000),
      keepAlive: true,
      keepAliveInitialDelayMillis: heartbeatMs,
    });
    c.on('notification', (msg) => {
      if (msg.channel === heartbeatChannel) {
        if (client === c && outstanding && msg.payload === outstanding.payload) {
          outstanding = undefined;
          answered += 1;
          if (answered === 1) proven();
        }
        return;
      }
      if (msg.channel !== CHANNEL) return;
      pending.add(msg.payload || UNKNOWN_SITE);
      timer ??= setTimeout(flush, options.debounceMs);
    });
    c.on('error', (err) => lose(c, err.message));
    c.on('end', () => lose(c, 'connection closed'));
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      await c.query(`LISTEN ${pg.escapeIdentifier(heartbeatChannel)}`);
    } catch (err) {
      destroy(c);
      throw err;
    }
    if (closed) {
      destroy(c);
      return;
    }
    client = c;
    answered = 0;
    outstanding = undefined;
    replacing = isReconnect;
    beat = setInterval(() => heartbeat(c), heartbeatMs);
    beat.unref();
    // The first heartbeat right away: the connection counts as listening once one arrives.
    heartbeat(c);
  };

  /**
   * The first heartbeat arrived on the current connection. Only now does the backoff reset and a replacing
   * connection plan its change tick: behind a pooler that eats notifications the listener keeps backing off
   * instead of ticking every few seconds.
   */
  const proven = () => {
    failures = 0;
    setState('listening');
    if (!replacing) {
      log.info({ heartbeatMs }, 'listening for CRM changes');
      return;
    }
    replacing = false;
    log.info('listening for CRM changes again; planning a change tick for what was missed');
    void options.onReconnect().catch((err) => log.error({ err }, 'cannot plan after reconnecting'));
  };

  const reconnect = () => {
    if (closed) return;
    failures += 1;
    const delay = Math.min(30_000, 250 * 2 ** Math.min(failures - 1, 7));
    setTimeout(() => {
      if (!closed) {
        connect(true).catch((err: Error) => {
          log.warn({ err: { message: err.message }, retryInMs: delay }, 'cannot listen for CRM changes');
          reconnect();
        });
      }
    }, delay).unref();
  };

  const ready = connect(false).catch((err) => {
    log.warn({ err }, 'cannot listen for CRM changes; the tick still plans them');
    reconnect();
  });

  return {
    ready,
    get state() {
      return state;
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (beat) clearInterval(beat);
      const c = client;
      client = undefined;
      if (c) await Promise.race([c.end().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
      if (c) destroy(c);
    },
  };
}
