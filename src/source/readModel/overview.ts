import type { Connections } from '../connections.js';
import { DEFAULT_RULES, type NormalizeRules } from '../../domain/contact.js';
import { assessHealth, type Health } from '../../domain/health.js';
import { siteKey } from '../../domain/site.js';
import { dbNow, type PrismaClient } from '../db.js';
import { unreachableOf, type UnreachableSite } from '../../domain/reach.js';
import { readSiteReach } from '../reach.js';
import { listHolds, type HoldRecord } from './holds.js';
import { listRuns, type RunListItem } from './runList.js';

/**
 * The operator's overview (`npm run status`): sites on hold, recent failures, the oldest change not yet
 * applied, and the last runs. Ids, reasons and counts only: never a contact's name, phone or email.
 */

/** A contact whose last operation failed (`sync_ledger.last_outcome = 'failed'`). */
export interface FailureRow {
  readonly site: string;
  readonly externalContactId: string;
  /** The ledger's last kind: create | update | delete. */
  readonly kind: string | null;
  readonly reason: string | null;
  /** ISO 8601: `failed_at`, else when the ledger row was last written. */
  readonly at: string;
}

/** The change waiting longest to be applied. */
export interface OldestUnsynced {
  readonly site: string;
  readonly externalContactId: string;
  /** ISO 8601: `sync_ledger.pending_since`, or when a still-queued operation was planned. */
  readonly since: string;
  /** Whole seconds, on the database clock. */
  readonly ageSeconds: number;
}

/** What {@link getStatusOverview} returns (and `npm run status -- --json` prints). */
export interface StatusOverview {
  /** ISO 8601, database clock. */
  readonly at: string;
  /** Sites whose deletes wait for an operator's approval, oldest first. */
  readonly holds: HoldRecord[];
  /** Every failed contact counted; the most recent `limit` listed. */
  readonly failures: { readonly total: number; readonly items: FailureRow[] };
  readonly oldestUnsyncedChange: OldestUnsynced | null;
  readonly runs: RunListItem[];
  /**
   * Enabled sites without a contact CHeKT can text, once the CRM's current contacts are synced
   * (docs/REACHABILITY.md), ordered by site.
   */
  readonly unreachableSites: UnreachableSite[];
}

/**
 * Reads the overview. `limits.runs` (default 10) last runs and `limits.failures` (default 20) most recent
 * failures are listed.
 * @throws the Prisma/pg error when PostgreSQL cannot be read.
 */
export async function getStatusOverview(
  conn: Connections,
  limits: { runs?: number; failures?: number } = {},
  /** Phone rules for reachability (`PHONE_DEFAULT_REGION`...). Default: domain/contact.ts DEFAULT_RULES. */
  rules: NormalizeRules = DEFAULT_RULES,
): Promise<StatusOverview> {
  const db = conn.db;
  const now = await dbNow(db);
  const [holds, failedTotal, failed, oldest, runs, reach] = await Promise.all([
    listHolds(db),
    db.syncLedger.count({ where: { lastOutcome: 'failed' } }),
    db.$queryRaw<Array<{ dealer: string; site: string; ext: string; kind: string | null; error: string | null; at: Date }>>`
      SELECT chekt_dealer_id AS dealer, chekt_site_id AS site, external_contact_id AS ext, last_kind AS kind, last_error AS error,
             COALESCE(failed_at, updated_at) AS at
        FROM sync_ledger WHERE last_outcome = 'failed'
       ORDER BY 6 DESC, 1, 2, 3 LIMIT ${limits.failures ?? 20}`,
    oldestUnsynced(db),
    listRuns(db, { limit: limits.runs ?? 10 }),
    readSiteReach(conn, rules, null),
  ]);
  return {
    at: now.toISOString(),
    holds,
    failures: {
      total: failedTotal,
      items: failed.map((f) => ({ site: siteKey(f.dealer, f.site), externalContactId: f.ext, kind: f.kind, reason: f.error, at: f.at.toISOString() })),
    },
    oldestUnsyncedChange: oldest && {
      site: siteKey(oldest.dealer, oldest.site),
      externalContactId: oldest.ext,
      since: oldest.since.toISOString(),
      ageSeconds: Math.max(0, Math.floor((now.getTime() - oldest.since.getTime()) / 1000)),
    },
    runs: runs.items,
    unreachableSites: unreachableOf(reach),
  };
}

/** The overview with its verdict: what `GET /api/status` answers and `npm run status -- --json` prints. */
export type StatusReport = StatusOverview & { readonly health: Health };

/**
 * The overview and its health (domain/health.ts) under `behindSeconds` (`ALERT_BEHIND_SECONDS`), with the
 * defaults of {@link getStatusOverview}.
 * @throws the Prisma/pg error when PostgreSQL cannot be read.
 */
export async function readStatusReport(conn: Connections, behindSeconds: number, rules: NormalizeRules = DEFAULT_RULES): Promise<StatusReport> {
  const overview = await getStatusOverview(conn, {}, rules);
  return { ...overview, health: assessHealth(overview, behindSeconds) };
}

/**
 * The oldest of: the ledger's earliest `pending_since`, and the earliest still-queued operation of a running
 * run (a run waits on it even when the ledger has no `pending_since`).
 */
export async function oldestUnsynced(db: Pick<PrismaClient, '$queryRaw'>): Promise<{ dealer: string; site: string; ext: string; since: Date } | null> {
  const rows = await db.$queryRaw<Array<{ dealer: string; site: string; ext: string; since: Date }>>`
    (SELECT chekt_dealer_id AS dealer, chekt_site_id AS site, external_contact_id AS ext, pending_since AS since
       FROM sync_ledger WHERE pending_since IS NOT NULL ORDER BY pending_since LIMIT 1)
    UNION ALL
    (SELECT o.chekt_dealer_id, o.chekt_site_id, o.external_contact_id, o.created_at
       FROM sync_runs r JOIN sync_operations o ON o.run_id = r.id
      WHERE r.status = 'running' AND o.outcome = 'queued' ORDER BY o.created_at LIMIT 1)
    ORDER BY since LIMIT 1`;
  return rows[0] ?? null;
}
