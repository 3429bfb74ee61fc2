import { countOutcome, runStatusOf, type OutcomeCounts } from '../../domain/runStatus.js';
import { readPlanSummary, type StoredPlanSummary } from '../../domain/runSummary.js';
import type { PrismaClient } from '../db.js';
import { countDriftRepaired, countOutcomes } from './runs.js';

/**
 * Run history for operators (`GET /api/runs`, `npm run status`, the console's overview): pages of runs with
 * their counts. Read-only; ids, counts and reasons only, never a contact's name, phone or email.
 */

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
  /** The plan's totals (`sync_runs.planned.totals`); null while planning, when planning failed, or unreadable. */
  readonly totals: StoredPlanSummary['totals'];
  readonly counts: OutcomeCounts;
  /** Sites whose deletes this run held (held operations are in `counts.delete.held`). */
  readonly held: number;
  /** Operations that failed. */
  readonly failures: number;
  /** Drift repairs that succeeded: see `DRIFT_REASONS` (./runs.ts). */
  readonly driftRepaired: number;
}

/** Where a page of runs starts: runs started strictly before `startedAt` (and, on the same instant, a smaller id). */
export interface RunCursor {
  readonly startedAt: Date;
  readonly id: string | null;
}

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
  const where = !c ? {} : c.id === null ? { startedAt: { lt: c.startedAt } } : { OR: [{ startedAt: { lt: c.startedAt } }, { startedAt: c.startedAt, id: { lt: c.id } }] };
  const rows = await db.syncRun.findMany({ where, orderBy: [{ startedAt: 'desc' }, { id: 'desc' }], take: page.limit + 1 });
  const runs = rows.slice(0, page.limit);
  const ids = runs.map((r) => r.id);
  const [counts, drift] = await Promise.all([countOutcomes(db, ids), countDriftRepaired(db, ids)]);
  const items = runs.map((r) => {
    const byKind = counts.get(r.id) ?? {};
    const { summary } = readPlanSummary(r.planned);
    const held = summary?.held?.length ?? 0;
    return {
      id: r.id,
      trigger: r.trigger,
      mode: r.mode,
      dryRun: r.dryRun,
      approveDeletes: r.approveDeletes,
      status: runStatusOf(r.status, byKind, held),
      startedAt: r.startedAt.toISOString(),
      finishedAt: r.finishedAt?.toISOString() ?? null,
      totals: summary?.totals ?? null,
      counts: byKind,
      held,
      failures: countOutcome(byKind, 'failed'),
      driftRepaired: drift.get(r.id) ?? 0,
    };
  });
  return { items, nextCursor: rows.length > page.limit ? (runs.at(-1)?.id ?? null) : null };
}
