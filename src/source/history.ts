import { reportedRunStatus } from '../domain/runStatus.js';
import type { PrismaClient } from './db.js';
import type { Hold } from '../domain/safety.js';
import { siteKey, type SiteKey } from '../domain/site.js';

/**
 * Run history for operators (`GET /api/runs`, `GET /api/runs/:id`, `npm run status`): pages of runs with
 * their counts, and one run's operations, holds and drift repairs. Read-only; ids, counts and reasons only,
 * never a contact's name, phone or email.
 */

/** Counts per kind and outcome, e.g. `{ create: { succeeded: 3, failed: 1 } }`. */
export type OutcomeCounts = Record<string, Record<string, number>>;


/** One run in a page of {@link listRuns}. */
export interface RunListItem {
  readonly id: string;
  readonly trigger: string;
  readonly mode: string;
  readonly dryRun: boolean;
  readonly approveDeletes: boolean;
  /** The reported status word (domain/runStatus.ts): e.g. `completed_with_failures` or `held`, not just `completed`. */
  readonly status: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** The plan's totals (`sync_runs.planned.totals`); null while planning or when planning failed. */
  readonly totals: Record<string, number> | null;
  readonly counts: OutcomeCounts;
  /** Sites whose deletes this run held (held operations are in `counts.delete.held`). */
  readonly held: number;
  /** Operations that failed. */
  readonly failures: number;
  /** Drift repairs that succeeded: see {@link DRIFT_REASONS}. */
  readonly driftRepaired: number;
}

/** Where a page of runs starts: runs started strictly before `startedAt` (and, on the same instant, a smaller id). */
export interface RunCursor {
  readonly startedAt: Date;
  readonly id: string | null;
}

/** Operation reasons that repair a dealer's edit or deletion in CHeKT (counted with applied kind `recreate`). */
export const DRIFT_REASONS = ['drift_edited', 'drift_deleted'] as const;

/**
 * Resolves a `before` cursor: a run id (the page continues after that run) or an ISO 8601 time (runs started
 * before it). Returns null for a run id that does not exist. The caller validates the syntax.
 */
export async function resolveRunCursor(db: PrismaClient, before: string, isRunId: boolean): Promise<RunCursor | null> {
  if (!isRunId) return { startedAt: new Date(before), id: null };
  const run = await db.syncRun.findUnique({ where: { id: before }, select: { id: true, startedAt: true } });
  return run ? { startedAt: run.startedAt, id: run.id } : null;
}

/**
 * A page of runs, newest first (by `started_at`, then id). `limit` is the page size (the caller bounds it;
 * the API uses 1..100, default 20). `nextCursor` is the last run's id when more runs follow, else null.
 */
export async function listRuns(db: PrismaClient, page: { limit: number; before?: RunCursor | null }): Promise<{ items: RunListItem[]; nextCursor: string | null }> {
  const c = page.before;
  const where = !c
    ? {}
    : c.id === null
      ? { startedAt: { lt: c.startedAt } }
      : { OR: [{ startedAt: { lt: c.startedAt } }, { startedAt: c.startedAt, id: { lt: c.id } }] };
  const rows = await db.syncRun.findMany({ where, orderBy: [{ startedAt: 'desc' }, { id: 'desc' }], take: page.limit + 1 });
  const runs = rows.slice(0, page.limit);
  const ids = runs.map((r) => r.id);
  const [counts, drift] = await Promise.all([countOutcomes(db, ids), countDriftRepaired(db, ids)]);
  const items = runs.map((r) => {
    const byKind = counts.get(r.id) ?? {};
    const failures = Object.values(byKind).reduce((n, o) => n + (o.failed ?? 0), 0);
    const held = plannedHeld(r.planned)?.length ?? 0;
    return {
      id: r.id,
      trigger: r.trigger,
      mode: r.mode,
      dryRun: r.dryRun,
      approveDeletes: r.approveDeletes,
      status: reportedRunStatus(r.status, { failed: failures, held: Math.max(held, byKind.delete?.held ?? 0) }),
      startedAt: r.startedAt.toISOString(),
      finishedAt: r.finishedAt?.toISOString() ?? null,
      totals: plannedTotals(r.planned),
      counts: byKind,
      held,
      failures,
      driftRepaired: drift.get(r.id) ?? 0,
    };
  });
  return { items, nextCursor: rows.length > page.limit ? (runs.at(-1)?.id ?? null) : null };
}

/** One operation of a run, as `GET /api/runs/:id` lists it. */
export interface OperationItem {
  readonly dealerId: string;
  readonly siteId: string;
  readonly externalContactId: string;
  /** create | update | delete, as planned. */
  readonly kind: string;
  /** What the worker did after re-reading the CRM (e.g. `recreate`, `skip`); null until it ran. */
  readonly appliedKind: string | null;
  readonly reason: string | null;
  /** queued | planned | held | succeeded | failed | skipped. */
  readonly outcome: string;
  readonly error: string | null;
  readonly attempts: number;
}

/** What `GET /api/runs/:id` adds to the run report. */
export interface RunDetails {
  readonly mode: string;
  readonly approveDeletes: boolean;
  /** A page of the run's operations, ordered by dealer, site, `external_contact_id`. */
  readonly operations: { readonly total: number; readonly limit: number; readonly offset: number; readonly items: OperationItem[] };
  /** Sites whose deletes the run held (`sync_runs.planned.held`, else the `sync_holds` rows the run wrote). */
  readonly held: Hold[];
  readonly driftRepaired: number;
}

/**
 * Operations, holds and drift repairs of one run; null when the run is unknown. `ops.limit` and `ops.offset`
 * page the operations (the caller bounds them; the API uses limit 1..1000, default 100, offset default 0).
 */
export async function getRunDetails(db: PrismaClient, runId: string, ops: { limit: number; offset: number }): Promise<RunDetails | null> {
  const run = await db.syncRun.findUnique({ where: { id: runId }, select: { mode: true, approveDeletes: true, planned: true } });
  if (!run) return null;
  const [total, rows, drift, holds] = await Promise.all([
    db.syncOperation.count({ where: { runId } }),
    db.syncOperation.findMany({
      where: { runId },
      orderBy: [{ chektDealerId: 'asc' }, { chektSiteId: 'asc' }, { externalContactId: 'asc' }, { opKey: 'asc' }],
      skip: ops.offset,
      take: ops.limit,
    }),
    countDriftRepaired(db, [runId]),
    db.syncHold.findMany({ where: { runId }, orderBy: [{ chektDealerId: 'asc' }, { chektSiteId: 'asc' }] }),
  ]);
  const held =
    plannedHeld(run.planned) ??
    holds.map((h) => ({ site: siteKey(h.chektDealerId, h.chektSiteId), reason: h.reason, deletes: h.deletes, managed: h.managed }));
  return {
    mode: run.mode,
    approveDeletes: run.approveDeletes,
    operations: {
      total,
      limit: ops.limit,
      offset: ops.offset,
      items: rows.map((o) => ({
        dealerId: o.chektDealerId,
        siteId: o.chektSiteId,
        externalContactId: o.externalContactId,
        kind: o.kind,
        appliedKind: o.appliedKind,
        reason: o.reason,
        outcome: o.outcome,
        error: o.error,
        attempts: o.attempts,
      })),
    },
    held,
    driftRepaired: drift.get(runId) ?? 0,
  };
}

/** Counts per run, kind and outcome. */
async function countOutcomes(db: PrismaClient, runIds: readonly string[]): Promise<Map<string, OutcomeCounts>> {
  const out = new Map<string, OutcomeCounts>();
  if (runIds.length === 0) return out;
  const groups = await db.syncOperation.groupBy({ by: ['runId', 'kind', 'outcome'], where: { runId: { in: [...runIds] } }, _count: { _all: true } });
  for (const g of groups) {
    const byKind = out.get(g.runId) ?? {};
    out.set(g.runId, byKind);
    (byKind[g.kind] ??= {})[g.outcome] = g._count._all;
  }
  return out;
}

/** Succeeded drift repairs per run: reason in {@link DRIFT_REASONS}, or applied kind `recreate`. */
async function countDriftRepaired(db: PrismaClient, runIds: readonly string[]): Promise<Map<string, number>> {
  if (runIds.length === 0) return new Map();
  const groups = await db.syncOperation.groupBy({
    by: ['runId'],
    where: { runId: { in: [...runIds] }, outcome: 'succeeded', OR: [{ reason: { in: [...DRIFT_REASONS] } }, { appliedKind: 'recreate' }] },
    _count: { _all: true },
  });
  return new Map(groups.map((g) => [g.runId, g._count._all]));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `planned.totals` when it is an object of numbers. */
function plannedTotals(planned: unknown): Record<string, number> | null {
  if (!isRecord(planned) || !isRecord(planned.totals)) return null;
  return Object.fromEntries(Object.entries(planned.totals).filter((e): e is [string, number] => typeof e[1] === 'number'));
}

/** `planned.held` (written by the planner since deletion holds exist), or undefined when absent. */
function plannedHeld(planned: unknown): Hold[] | undefined {
  if (!isRecord(planned) || !Array.isArray(planned.held)) return undefined;
  return planned.held.filter(isRecord).map((h) => ({
    site: String(h.site ?? '') as SiteKey,
    reason: String(h.reason ?? ''),
    deletes: Number(h.deletes ?? 0),
    managed: Number(h.managed ?? 0),
  }));
}

/** Operations of a run that failed so far (progress of `npm run sync`). */
export async function countFailed(db: PrismaClient, runId: string): Promise<number> {
  return db.syncOperation.count({ where: { runId, outcome: 'failed' } });
}
