import type { PlannedOperation } from '../domain/plan.js';
import { Prisma } from '../generated/prisma/client.js';
import type { NewRun } from '../sync/ports/planner.js';
import type { PrismaClient, RunSql } from './db.js';
import { ledgerWriteSql, type LedgerWrite } from './ledger.js';

/**
 * Run history (`sync_runs`) and each run's operations (`sync_operations`): the writes, and the reads the planner,
 * the workers and recovery need. Counts per kind and outcome are aggregated from the operations, so concurrent
 * workers never race on a counter. What operators see of a run is read by source/readModel/runs.ts.
 */

/** Outcome of one operation; `queued` until a worker finishes it, `planned` in a dry run. */
export type OperationOutcome = 'queued' | 'planned' | 'held' | 'succeeded' | 'failed' | 'skipped';

/** Creates a run in status `planning`. */
export async function createRun(db: PrismaClient, run: NewRun): Promise<void> {
  await db.syncRun.create({
    data: { id: run.id, trigger: run.trigger, mode: run.mode, approveDeletes: run.approveDeletes, dryRun: run.dryRun, sites: [...run.sites], status: 'planning', startedAt: run.now },
  });
}

/**
 * Records a run's plan: its summary and one `sync_operations` row per planned operation (`queued`, `held`
 * for a held delete, or `planned` for a dry run). A run with nothing to execute is completed at once.
 */
export async function recordPlan(
  db: PrismaClient,
  run: { id: string; dryRun: boolean; summary: object; operations: readonly PlannedOperation[]; heldKeys: ReadonlySet<string>; crmReadAt: Date; now: Date },
): Promise<void> {
  const outcomeOf = (o: PlannedOperation): OperationOutcome => (run.heldKeys.has(o.opKey) ? 'held' : run.dryRun ? 'planned' : 'queued');
  const done = run.dryRun || run.operations.every((o) => run.heldKeys.has(o.opKey));
  const rows = run.operations.map((o) => ({
    runId: run.id,
    opKey: o.opKey,
    chektDealerId: o.dealerId,
    chektSiteId: o.siteId,
    externalContactId: o.externalContactId,
    crmSiteId: o.crmSiteId,
    reason: o.reason,
    chektContactId: o.chektContactId,
    kind: o.kind,
    outcome: outcomeOf(o),
  }));
  // PostgreSQL takes at most 65,535 bind parameters per statement: 10 columns × 5,000 rows per insert.
  const inserts = [];
  for (let i = 0; i < rows.length; i += 5000) inserts.push(db.syncOperation.createMany({ data: rows.slice(i, i + 5000), skipDuplicates: true }));
  await db.$transaction([
    ...inserts,
    db.syncRun.update({
      where: { id: run.id },
      data: {
        planned: run.summary,
        crmReadAt: run.crmReadAt,
        plannedAt: run.now,
        status: done ? 'completed' : 'running',
        ...(done ? { finishedAt: run.now } : {}),
      },
    }),
  ]);
}

/** Stores a run's summary again once its jobs are enqueued (the summary then says what the enqueue did). */
export async function recordEnqueued(db: PrismaClient, runId: string, summary: object): Promise<void> {
  await db.syncRun.update({ where: { id: runId }, data: { planned: summary } });
}

/** Marks a run failed (planning failed: e.g. the CRM read failed, so nothing was planned). */
export async function failRun(db: PrismaClient, runId: string, error: string, now: Date): Promise<void> {
  await db.syncRun.update({ where: { id: runId }, data: { status: 'failed', error, finishedAt: now } });
}

/**
 * Settles the queued operations with this `opKey` (of every run waiting on the same job) whose run read the
 * CRM no later than the job did (`readAt`, the database clock), and completes the runs left with nothing
 * queued, in one statement (`run`: source/db.ts `Database.sql`, or `viaPrisma`). Operations of runs that saw newer CRM data stay queued (`stillQueued`): the job
 * applies again, or the job is enqueued anew (sync/requeue.ts).
 *
 * Returns the ids of the runs touched (`runIds`) and, among them, the runs that still had other operations
 * queued as this statement saw them (`openRunIds`). Sub-statements of one WITH share a snapshot, and so do
 * concurrent statements that started before each other's commit: two jobs settling a run's last two operations
 * at once each see the other's as queued, and neither completes the run. So the caller checks every open run
 * again after this commit ({@link completeRunsIfDone}; the worker gathers those checks, sync/runCompletion.ts):
 * the check made after the last of them committed sees every operation settled.
 */
export async function finishOperation(
  run: RunSql,
  op: {
    opKey: string;
    outcome: 'succeeded' | 'failed' | 'skipped' | 'held';
    appliedKind: string;
    error: string | null;
    attempts: number;
    readAt: Date;
    now: Date;
    /** The ledger write recording the operation, made in the same statement. */
    ledger?: LedgerWrite;
  },
): Promise<{ runIds: string[]; openRunIds: string[]; stillQueued: boolean }> {
  // `others` asks only whether another operation is queued (the first index entry answers), not how many:
  // counting them cost every finish a scan of up to thousands of rows
  // (docs/BENCHMARKS.md#what-stops-a-target-numbers-for-the-core).
  const rows = await run<{ run_ids: string[] | null; open: string[] | null; left: bigint | string }>(Prisma.sql`
    WITH ${op.ledger ? Prisma.sql`led AS (${ledgerWriteSql(op.ledger)} RETURNING 1),` : Prisma.empty} fin AS (
      UPDATE sync_operations o
         SET outcome = ${op.outcome}, applied_kind = ${op.appliedKind}, error = ${op.error}, attempts = ${op.attempts}, finished_at = ${op.now}
        FROM sync_runs r
       WHERE o.op_key = ${op.opKey} AND o.outcome = 'queued' AND r.id = o.run_id
         AND (r.crm_read_at IS NULL OR r.crm_read_at <= ${op.readAt})
      RETURNING o.run_id
    ), others AS (
      SELECT f.run_id,
             EXISTS (SELECT 1 FROM sync_operations o
                      WHERE o.run_id = f.run_id AND o.outcome = 'queued' AND o.op_key <> ${op.opKey}) AS more
        FROM fin f
    ), done AS (
      UPDATE sync_runs r SET status = 'completed', finished_at = ${op.now}
       WHERE r.id IN (SELECT run_id FROM others WHERE NOT more) AND r.status = 'running'
      RETURNING r.id
    )
    SELECT (SELECT array_agg(run_id::text) FROM fin) AS run_ids,
           (SELECT array_agg(run_id::text) FROM others WHERE more) AS open,
           (SELECT count(*) FROM sync_operations WHERE op_key = ${op.opKey} AND outcome = 'queued') - (SELECT count(*) FROM fin) AS left,
           (SELECT count(*) FROM done) AS completed`);
  const r = rows[0]!;
  return { runIds: [...new Set(r.run_ids ?? [])], openRunIds: [...new Set(r.open ?? [])], stillQueued: Number(r.left) > 0 };
}

/** Completes running runs among `runIds` that have no queued operation left. */
export async function completeRunsIfDone(db: PrismaClient, runIds: readonly string[], now: Date): Promise<void> {
  await db.$executeRaw`
    UPDATE sync_runs r SET status = 'completed', finished_at = ${now}
     WHERE r.id::text = ANY(${[...runIds]}) AND r.status = 'running'
       AND NOT EXISTS (SELECT 1 FROM sync_operations o WHERE o.run_id = r.id AND o.outcome = 'queued')`;
}

/** Number of this run's operations still queued. */
export async function countQueued(db: PrismaClient, runId: string): Promise<number> {
  return db.syncOperation.count({ where: { runId, outcome: 'queued' } });
}

/** A run's operations still queued, as planned operations (at most `limit`), to enqueue their jobs again. */
export async function listQueuedOperations(db: PrismaClient, runId: string, limit = 10_000): Promise<PlannedOperation[]> {
  const rows = await db.syncOperation.findMany({ where: { runId, outcome: 'queued' }, take: limit });
  return rows.map(toPlanned);
}

/**
 * The newest operation still `queued` under one job id (`op_key`) in a running run, so its job can be enqueued
 * again after Redis lost or mangled it (recovery/unreadableJobs.ts); null when every operation of that key is
 * settled. `approveDeletes`: the run was an operator's approval. Older runs waiting on the same key are settled
 * by the new job ({@link finishOperation} settles every queued row of the key whose run read the CRM no later).
 */
export async function newestQueuedByOpKey(db: PrismaClient, opKey: string): Promise<{ runId: string; approveDeletes: boolean; operation: PlannedOperation } | null> {
  const r = await db.syncOperation.findFirst({
    where: { opKey, outcome: 'queued', run: { status: 'running' } },
    orderBy: { createdAt: 'desc' },
    include: { run: { select: { approveDeletes: true } } },
  });
  return r ? { runId: r.runId, approveDeletes: r.run.approveDeletes, operation: toPlanned(r) } : null;
}

/** A `sync_operations` row as the planned operation it records (enough to enqueue its job again). */
function toPlanned(r: {
  kind: string;
  opKey: string;
  chektDealerId: string;
  chektSiteId: string;
  crmSiteId: string | null;
  externalContactId: string;
  chektContactId: string | null;
  reason: string | null;
}): PlannedOperation {
  return {
    kind: r.kind as PlannedOperation['kind'],
    opKey: r.opKey,
    dealerId: r.chektDealerId,
    siteId: r.chektSiteId,
    crmSiteId: r.crmSiteId ?? '',
    externalContactId: r.externalContactId,
    chektContactId: r.chektContactId,
    reason: (r.reason ?? 'missing_in_chekt') as PlannedOperation['reason'],
    fields: [],
  };
}

/** Runs still `running` whose plan was recorded more than `olderThanMs` ago (newest first, at most 50). */
export async function listStaleRuns(db: PrismaClient, olderThanMs: number, now: Date): Promise<string[]> {
  const rows = await db.syncRun.findMany({
    where: { status: 'running', plannedAt: { lt: new Date(now.getTime() - olderThanMs) } },
    orderBy: { plannedAt: 'desc' },
    take: 50,
    select: { id: true },
  });
  return rows.map((r) => r.id);
}
