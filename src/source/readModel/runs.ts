import type { OperationItem, RunOperationsPage, RunView } from '../../domain/runReport.js';
import type { OutcomeCounts, StoredRunStatus } from '../../domain/runStatus.js';
import { readPlanSummary } from '../../domain/runSummary.js';
import { siteKey } from '../../domain/site.js';
import type { PrismaClient } from '../db.js';

/**
 * One run for its report (`npm run sync`, `GET /api/runs/:id`, the console's run page): {@link readRun} reads
 * the `sync_runs` row once, with its counts, failures, notes and reach problems; {@link readRunOperations}
 * adds a page of its operations to the run already read. Read-only; ids, counts and reasons only.
 */

/** Operation reasons that repair a dealer's edit or deletion in CHeKT (counted with applied kind `recreate`). */
export const DRIFT_REASONS = ['drift_edited', 'drift_deleted'] as const;

/** Most failures, notes, reach problems and planned operations a run's report lists. */
const LISTED = 1000;

const byContact = [{ chektDealerId: 'asc' }, { chektSiteId: 'asc' }, { externalContactId: 'asc' }] as const;

/** Loads one run as its report shows it; null when unknown. The summary is parsed here, once. */
export async function readRun(db: PrismaClient, id: string): Promise<RunView | null> {
  const run = await db.syncRun.findUnique({ where: { id } });
  if (!run) return null;
  const [counts, drift, failed, reachProblems, noted, planned] = await Promise.all([
    countOutcomes(db, [id]),
    countDriftRepaired(db, [id]),
    db.syncOperation.findMany({ where: { runId: id, outcome: 'failed' }, orderBy: [...byContact], take: LISTED }),
    db.$queryRaw<Array<{ dealer: string; site: string; ext: string; problem: string }>>`
      SELECT chekt_dealer_id AS dealer, chekt_site_id AS site, external_contact_id AS ext, reach_problem AS problem
        FROM sync_ledger WHERE last_run_id = ${id}::uuid AND reach_problem IS NOT NULL AND chekt_contact_id IS NOT NULL
       ORDER BY 1, 2, 3 LIMIT ${LISTED}`,
    db.syncOperation.findMany({ where: { runId: id, outcome: 'succeeded', error: { not: null } }, orderBy: [...byContact], take: LISTED }),
    run.dryRun ? db.syncOperation.findMany({ where: { runId: id, outcome: 'planned' }, orderBy: [...byContact], take: LISTED }) : Promise.resolve([]),
  ]);
  const { summary, problems } = readPlanSummary(run.planned);
  return {
    id: run.id,
    trigger: run.trigger,
    mode: run.mode,
    dryRun: run.dryRun,
    approveDeletes: run.approveDeletes,
    status: run.status as StoredRunStatus,
    startedAt: run.startedAt.toISOString(),
    plannedAt: run.plannedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    error: run.error,
    summary,
    summaryProblems: problems,
    counts: counts.get(id) ?? {},
    driftRepaired: drift.get(id) ?? 0,
    failures: failed.map((f) => ({ dealerId: f.chektDealerId, siteId: f.chektSiteId, externalContactId: f.externalContactId, kind: f.appliedKind ?? f.kind, error: f.error })),
    reachProblems: reachProblems.map((r) => ({ site: siteKey(r.dealer, r.site), externalContactId: r.ext, problem: r.problem })),
    notes: noted.map((o) => ({ dealerId: o.chektDealerId, siteId: o.chektSiteId, externalContactId: o.externalContactId, kind: o.appliedKind ?? o.kind, note: o.error ?? '' })),
    plannedOperations: planned.map((o) => ({ dealerId: o.chektDealerId, siteId: o.chektSiteId, externalContactId: o.externalContactId, kind: o.kind, reason: o.reason })),
  };
}

/**
 * A page of the operations of `run` (already read by {@link readRun}) and the sites it held: the summary's
 * `held`, else (a run older than holds in the summary) the `sync_holds` rows the run wrote. `page.limit` and
 * `page.offset` are bounded by the caller (the API: limit 1..1000, default 100; offset default 0).
 */
export async function readRunOperations(db: PrismaClient, run: RunView, page: { limit: number; offset: number }): Promise<RunOperationsPage> {
  const runId = run.id;
  const [total, rows, holds] = await Promise.all([
    db.syncOperation.count({ where: { runId } }),
    db.syncOperation.findMany({ where: { runId }, orderBy: [...byContact, { opKey: 'asc' }], skip: page.offset, take: page.limit }),
    run.summary?.held ? Promise.resolve(null) : db.syncHold.findMany({ where: { runId }, orderBy: [{ chektDealerId: 'asc' }, { chektSiteId: 'asc' }] }),
  ]);
  return {
    operations: { total, limit: page.limit, offset: page.offset, items: rows.map(toOperationItem) },
    held: run.summary?.held ?? (holds ?? []).map((h) => ({ site: siteKey(h.chektDealerId, h.chektSiteId), reason: h.reason, deletes: h.deletes, managed: h.managed })),
  };
}

function toOperationItem(o: {
  chektDealerId: string;
  chektSiteId: string;
  externalContactId: string;
  kind: string;
  appliedKind: string | null;
  reason: string | null;
  outcome: string;
  error: string | null;
  attempts: number;
}): OperationItem {
  return {
    dealerId: o.chektDealerId,
    siteId: o.chektSiteId,
    externalContactId: o.externalContactId,
    kind: o.kind,
    appliedKind: o.appliedKind,
    reason: o.reason,
    outcome: o.outcome,
    error: o.error,
    attempts: o.attempts,
  };
}

/** Operations of a run that failed so far (progress of `npm run sync`). */
export async function countFailed(db: PrismaClient, runId: string): Promise<number> {
  return db.syncOperation.count({ where: { runId, outcome: 'failed' } });
}

/** Counts per run, kind and outcome. */
export async function countOutcomes(db: PrismaClient, runIds: readonly string[]): Promise<Map<string, OutcomeCounts>> {
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
export async function countDriftRepaired(db: PrismaClient, runIds: readonly string[]): Promise<Map<string, number>> {
  if (runIds.length === 0) return new Map();
  const groups = await db.syncOperation.groupBy({
    by: ['runId'],
    where: { runId: { in: [...runIds] }, outcome: 'succeeded', OR: [{ reason: { in: [...DRIFT_REASONS] } }, { appliedKind: 'recreate' }] },
    _count: { _all: true },
  });
  return new Map(groups.map((g) => [g.runId, g._count._all]));
}
