import { randomUUID } from 'node:crypto';
import type { NormalizeRules } from '../domain/contact.js';
import type { CountedContact } from '../domain/reach.js';
import type { PrismaClient } from '../source/db.js';
import { oldestUnsynced } from '../source/readModel/overview.js';
import { readSiteReach, type ReachConnections } from '../source/reach.js';
import { alertBody, FAILED_ITEMS_LIMIT, type AlertFacts, type FailedItem } from './events.js';
import { siteKey } from '../domain/site.js';

/**
 * Finds state changes and writes one outbox row (`sync_alerts`) per change (docs/CONSOLE.md "Alerts").
 *
 * Exactly once across processes: every process runs this on its own timer, but each run holds a transaction-level
 * advisory lock (skipping when another process holds it), and a change is announced only by the statement that
 * changes `sync_alert_state` (insert of a new key, delete of a gone one, move of the failure watermark), in the
 * same transaction as the outbox row. Two processes therefore never announce one change twice.
 */

/** Advisory lock key of the detector (any constant unique to this project). */
const DETECT_LOCK_KEY = 72_707_365_472;

/** Rules of {@link detectChanges}. */
export interface DetectRules {
  /** `ALERT_BEHIND_SECONDS`: the oldest unsynced change older than this is `sync.behind`. */
  readonly behindSeconds: number;
  /** `ALERT_FAILURE_BATCH_SECONDS`: failures are gathered this long into one `operations.failed`. */
  readonly failureBatchSeconds: number;
  /** The service's phone rules (`PHONE_DEFAULT_REGION`...), as the status read uses them for unreachable sites. */
  readonly phoneRules: NormalizeRules;
  /** Classified contacts kept between passes by one process (source/reach.ts `ReachReadOptions.cache`). */
  readonly reachCache?: Map<string, CountedContact>;
  /**
   * Unreachable sites are read at most once per this many seconds across all processes (default
   * {@link REACH_CHECK_SECONDS}): the read covers every enabled site's contacts (about 1 s for 100,000 contacts,
   * docs/REACHABILITY.md), too much for every `ALERT_CHECK_INTERVAL_MS` pass. 0: every pass (tests).
   */
  readonly reachCheckSeconds?: number;
  /** Where unreachable sites are read from: the CRM and the ledger (source/reach.ts `readSiteReach`). */
  readonly reach: ReachConnections;
}

/** Default {@link DetectRules.reachCheckSeconds}: the `chekt_sync_sites_unreachable` gauge's 30 s. */
export const REACH_CHECK_SECONDS = 30;

type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/**
 * One detection pass. Returns the events it queued (empty when nothing changed or another process was
 * detecting at that moment).
 * @throws the Prisma/pg error when PostgreSQL fails (the caller logs it; the sync is not affected).
 */
export async function detectChanges(db: PrismaClient, rules: DetectRules): Promise<AlertFacts[]> {
  return db.$transaction(async (tx) => {
    const [lock] = await tx.$queryRaw<Array<{ ok: boolean }>>`SELECT pg_try_advisory_xact_lock(${DETECT_LOCK_KEY}::bigint) AS ok`;
    if (!lock?.ok) return [];
    const facts = [...(await holdChanges(tx)), ...(await reachChanges(tx, rules)), ...(await behindChange(tx, rules.behindSeconds)), ...(await failedBatch(tx, rules.failureBatchSeconds))];
    const [now] = await tx.$queryRaw<Array<{ now: Date }>>`SELECT clock_timestamp() AS now`;
    for (const f of facts) {
      const id = randomUUID();
      await tx.syncAlert.create({ data: { id, event: f.event, body: alertBody(id, now!.now.toISOString(), f) as object } });
    }
    return facts;
  });
}

/** `hold.created` for each `sync_holds` row not announced yet; `hold.cleared` for each announced one now gone. */
async function holdChanges(tx: Tx): Promise<AlertFacts[]> {
  const created = await tx.$queryRaw<Array<{ site: string; reason: string; deletes: number; managed: number; since: Date }>>`
    WITH ins AS (
      INSERT INTO sync_alert_state (key, since, data)
      SELECT 'hold:' || chekt_dealer_id || '/' || chekt_site_id, held_at, jsonb_build_object('reason', reason, 'deletes', deletes, 'managed', managed)
        FROM sync_holds
      ON CONFLICT (key) DO NOTHING
      RETURNING key, since, data)
    SELECT substr(key, 6) AS site, data->>'reason' AS reason, (data->>'deletes')::int AS deletes, (data->>'managed')::int AS managed, since
      FROM ins ORDER BY 1`;
  // A hold lifted and held again between two passes has a new held_at: announced as cleared, then created.
  const renewed = await tx.$queryRaw<Array<{ site: string; old_reason: string; reason: string; deletes: number; managed: number; since: Date }>>`
    UPDATE sync_alert_state a
       SET since = h.held_at, data = jsonb_build_object('reason', h.reason, 'deletes', h.deletes, 'managed', h.managed)
      FROM sync_holds h, sync_alert_state o
     WHERE a.key = 'hold:' || h.chekt_dealer_id || '/' || h.chekt_site_id AND o.key = a.key AND a.since <> h.held_at
    RETURNING substr(a.key, 6) AS site, o.data->>'reason' AS old_reason, h.reason, h.deletes, h.managed, h.held_at AS since`;
  const cleared = await tx.$queryRaw<Array<{ site: string; reason: string }>>`
    DELETE FROM sync_alert_state a
     WHERE a.key LIKE 'hold:%'
       AND NOT EXISTS (SELECT 1 FROM sync_holds h WHERE 'hold:' || h.chekt_dealer_id || '/' || h.chekt_site_id = a.key)
    RETURNING substr(a.key, 6) AS site, a.data->>'reason' AS reason`;
  const createdFact = (c: { site: string; reason: string; deletes: number; managed: number; since: Date }): AlertFacts => ({
    event: 'hold.created',
    site: c.site,
    reason: c.reason,
    deletes: c.deletes,
    managed: c.managed,
    since: c.since.toISOString(),
  });
  return [
    ...cleared.sort((a, b) => a.site.localeCompare(b.site)).map((c): AlertFacts => ({ event: 'hold.cleared', site: c.site, reason: c.reason })),
    ...renewed.sort((a, b) => a.site.localeCompare(b.site)).flatMap((r): AlertFacts[] => [{ event: 'hold.cleared', site: r.site, reason: r.old_reason }, createdFact(r)]),
    ...created.map(createdFact),
  ];
}

/** Key prefix of the unreachable sites announced (`sync_alert_state`): `unreachable:<dealerId>/<siteId>`. */
const UNREACHABLE = 'unreachable:';

/**
 * `site.unreachable` for each enabled site without an SMS-capable contact (the status read's `unreachableSites`,
 * source/reach.ts) not announced yet; `site.reachable` for each announced one that now has one, or is no longer
 * an enabled CRM site. A site whose reason changes while it stays unreachable is not announced again.
 */
async function reachChanges(tx: Tx, rules: DetectRules): Promise<AlertFacts[]> {
  // The last read's time is a state row too, so one process reads per period, under the detector's lock.
  const every = rules.reachCheckSeconds ?? REACH_CHECK_SECONDS;
  const due = await tx.$executeRaw`
    INSERT INTO sync_alert_state (key, since) VALUES ('unreachable.checked', clock_timestamp())
    ON CONFLICT (key) DO UPDATE SET since = clock_timestamp()
     WHERE sync_alert_state.since <= clock_timestamp() - make_interval(secs => ${every})`;
  if (due !== 1) return [];
  const reach = await readSiteReach(rules.reach, rules.phoneRules, null, rules.reachCache ? { cache: rules.reachCache } : {});
  const bySite = new Map(reach.map((r) => [r.site, r]));
  const down = reach.filter((r) => r.smsCapable === 0);
  const created = await tx.$queryRaw<Array<{ site: string; contacts: number; reason: string }>>`
    INSERT INTO sync_alert_state (key, data)
    SELECT ${UNREACHABLE} || t.site, jsonb_build_object('contacts', t.contacts, 'reason', t.reason)
      FROM unnest(${down.map((d) => d.site)}::text[], ${down.map((d) => d.contacts)}::int[], ${down.map((d) => d.reason)}::text[]) AS t(site, contacts, reason)
    ON CONFLICT (key) DO NOTHING
    RETURNING substr(key, ${UNREACHABLE.length + 1}::int) AS site, (data->>'contacts')::int AS contacts, data->>'reason' AS reason`;
  const cleared = await tx.$queryRaw<Array<{ site: string }>>`
    DELETE FROM sync_alert_state
     WHERE starts_with(key, ${UNREACHABLE}) AND NOT (substr(key, ${UNREACHABLE.length + 1}::int) = ANY(${down.map((d) => d.site)}::text[]))
    RETURNING substr(key, ${UNREACHABLE.length + 1}::int) AS site`;
  const bySiteName = (a: { site: string }, b: { site: string }) => a.site.localeCompare(b.site);
  return [
    ...cleared.sort(bySiteName).map((c): AlertFacts => {
      const now = bySite.get(c.site);
      return now
        ? { event: 'site.reachable', site: c.site, contacts: now.contacts, smsCapable: now.smsCapable, reason: now.reason }
        : { event: 'site.reachable', site: c.site, contacts: null, smsCapable: null, reason: 'no longer synced (sync_enabled is false, or the site is gone from the CRM)' };
    }),
    ...created.sort(bySiteName).map((c): AlertFacts => ({ event: 'site.unreachable', site: c.site, contacts: c.contacts, reason: c.reason })),
  ];
}

/** `sync.behind` when the oldest unsynced change passes `behindSeconds`; `sync.caught_up` when it falls under again. */
async function behindChange(tx: Tx, behindSeconds: number): Promise<AlertFacts[]> {
  const oldest = await oldestUnsynced(tx);
  const [now] = await tx.$queryRaw<Array<{ now: Date }>>`SELECT clock_timestamp() AS now`;
  const age = oldest ? Math.floor((now!.now.getTime() - oldest.since.getTime()) / 1000) : 0;
  if (oldest && age > behindSeconds) {
    const n =
      await tx.$executeRaw`INSERT INTO sync_alert_state (key, data) VALUES ('sync.behind', ${JSON.stringify({ site: siteKey(oldest.dealer, oldest.site) })}::jsonb) ON CONFLICT (key) DO NOTHING`;
    return n === 1 ? [{ event: 'sync.behind', site: siteKey(oldest.dealer, oldest.site), externalContactId: oldest.ext, ageSeconds: age, thresholdSeconds: behindSeconds }] : [];
  }
  const n = await tx.$executeRaw`DELETE FROM sync_alert_state WHERE key = 'sync.behind'`;
  return n === 1 ? [{ event: 'sync.caught_up', thresholdSeconds: behindSeconds }] : [];
}

/**
 * `operations.failed`: operations that failed for good since the watermark (`sync_alert_state` key
 * `operations.failed`), once the watermark is `batchSeconds` old. The first pass only sets the watermark, so
 * failures from before the alerter existed are not announced. Windows are contiguous on the database clock while
 * `finished_at` is written by the worker's clock, so this assumes the machines' clocks agree within a few seconds
 * (NTP); a failure stamped into a window already announced would be left out of the alerts (it still shows in
 * `npm run status`, the console and `/api/status`).
 */
async function failedBatch(tx: Tx, batchSeconds: number): Promise<AlertFacts[]> {
  const moved = await tx.$queryRaw<Array<{ from: Date | null; to: Date }>>`
    WITH old AS (SELECT since FROM sync_alert_state WHERE key = 'operations.failed'),
    ins AS (
      INSERT INTO sync_alert_state (key, since) SELECT 'operations.failed', clock_timestamp() WHERE NOT EXISTS (SELECT 1 FROM old)
      RETURNING since),
    upd AS (
      UPDATE sync_alert_state SET since = clock_timestamp()
       WHERE key = 'operations.failed' AND since <= clock_timestamp() - make_interval(secs => ${batchSeconds})
      RETURNING since)
    SELECT (SELECT since FROM old) AS from, since AS to FROM upd`;
  const m = moved[0];
  if (!m?.from) return [];
  const rows = await tx.$queryRaw<Array<{ site: string; ext: string; kind: string; error: string | null; total: bigint }>>`
    SELECT chekt_dealer_id || '/' || chekt_site_id AS site, external_contact_id AS ext, COALESCE(applied_kind, kind) AS kind, error,
           count(*) OVER () AS total
      FROM sync_operations
     WHERE outcome = 'failed' AND finished_at > ${m.from} AND finished_at <= ${m.to}
     ORDER BY finished_at, 1, 2 LIMIT ${FAILED_ITEMS_LIMIT}`;
  if (rows.length === 0) return [];
  const items: FailedItem[] = rows.map((r) => ({ site: r.site, externalContactId: r.ext, kind: r.kind, error: r.error }));
  return [{ event: 'operations.failed', total: Number(rows[0]!.total), items, from: m.from.toISOString(), to: m.to.toISOString() }];
}
