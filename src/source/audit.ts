import { randomUUID } from 'node:crypto';
import type { PrismaClient } from './db.js';

/**
 * The audit trail (`sync_audit`): every operator action, written with outcome `started` before the action runs
 * and settled after (docs/CONSOLE.md "Audit"). Rows reference runs and jobs by id only, so cleaning runs or jobs
 * never removes them. Holds ids and parameters only: never a contact's name, phone or email.
 */

/** Outcome of an audited action: `started` until it settles. */
export type AuditOutcome = 'started' | 'succeeded' | 'failed';

/** What is recorded before an action runs. */
export interface AuditStart {
  /** The authenticated HTTP user. */
  readonly actor: string;
  readonly role: string;
  /** e.g. `hold.approve`, `site.resync`, `site.retry_failed`, `bullboard.job.retry`. */
  readonly action: string;
  /** `dealerId/siteId`, a run id, or `<queue>/<jobId>`. */
  readonly target: string;
  readonly params?: Record<string, unknown>;
}

/** One audit row as `GET /api/audit` lists it (times ISO 8601). */
export interface AuditItem {
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly role: string;
  readonly action: string;
  readonly target: string;
  readonly params: unknown;
  readonly outcome: string;
  readonly detail: string | null;
  readonly finishedAt: string | null;
}

/** Writes the `started` row; returns its id. Throws when PostgreSQL refuses, so the action must not run. */
export async function startAudit(db: PrismaClient, entry: AuditStart): Promise<string> {
  const id = randomUUID();
  await db.syncAudit.create({
    data: { id, actor: entry.actor, role: entry.role, action: entry.action, target: entry.target, params: (entry.params ?? {}) as object, outcome: 'started' },
  });
  return id;
}

/** Settles an audit row; `detail` is a run id, an HTTP status or an error message (cut to 1,000 characters). */
export async function finishAudit(db: PrismaClient, id: string, outcome: Exclude<AuditOutcome, 'started'>, detail: string | null): Promise<void> {
  await db.syncAudit.update({ where: { id }, data: { outcome, detail: detail?.slice(0, 1000) ?? null, finishedAt: new Date() } });
}

/**
 * A page of the trail, newest first (by `at`, then id). `before` is the id of the last row of the previous page
 * (its `nextCursor`); an unknown id yields null. `limit` is bounded by the caller (the API: 1..200, default 50).
 */
export async function listAudit(db: PrismaClient, page: { limit: number; before?: string | undefined }): Promise<{ items: AuditItem[]; nextCursor: string | null } | null> {
  let where = {};
  if (page.before !== undefined) {
    const c = await db.syncAudit.findUnique({ where: { id: page.before }, select: { id: true, at: true } });
    if (!c) return null;
    where = { OR: [{ at: { lt: c.at } }, { at: c.at, id: { lt: c.id } }] };
  }
  const rows = await db.syncAudit.findMany({ where, orderBy: [{ at: 'desc' }, { id: 'desc' }], take: page.limit + 1 });
  const items = rows.slice(0, page.limit).map((r) => ({
    id: r.id,
    at: r.at.toISOString(),
    actor: r.actor,
    role: r.role,
    action: r.action,
    target: r.target,
    params: r.params,
    outcome: r.outcome,
    detail: r.detail,
    finishedAt: r.finishedAt?.toISOString() ?? null,
  }));
  return { items, nextCursor: rows.length > page.limit ? (items.at(-1)?.id ?? null) : null };
}
