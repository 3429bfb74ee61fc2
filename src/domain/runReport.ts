import type { StoredPlanSummary } from './runSummary.js';
import { runStatusOf, type OutcomeCounts, type ReportedRunStatus, type StoredRunStatus } from './runStatus.js';
import type { Hold } from './safety.js';

/**
 * The read model of one run and the JSON built from it, shared by `npm run sync -- --json`, `GET /api/runs/:id`
 * and the console's run page (they differ only in what they add). Pure: `src/source/readModel/runs.ts` loads a
 * {@link RunView} (one read of the run's row, its summary parsed once by domain/runSummary.ts), these functions
 * shape it. Ids, counts and reasons only: never a contact's name, phone or email.
 */

/** A contact a run's operation failed on for good. */
export interface RunFailure {
  readonly dealerId: string;
  readonly siteId: string;
  readonly externalContactId: string;
  /** What the worker did (`applied_kind`), else the planned kind. */
  readonly kind: string;
  readonly error: string | null;
}

/** One run, as read for a report. */
export interface RunView {
  readonly id: string;
  /** What started it: schedule | notify | reconcile_schedule | cli | api | console | demo. */
  readonly trigger: string;
  /** changes | reconcile. */
  readonly mode: string;
  readonly dryRun: boolean;
  readonly approveDeletes: boolean;
  readonly status: StoredRunStatus;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly plannedAt: string | null;
  readonly finishedAt: string | null;
  /** Why planning failed (then nothing was planned), else null. */
  readonly error: string | null;
  /** The stored plan summary (`sync_runs.planned`), read by domain/runSummary.ts; null before it is recorded. */
  readonly summary: StoredPlanSummary | null;
  /** Parts of the stored summary that could not be read (domain/runSummary.ts `readPlanSummary`); usually empty. */
  readonly summaryProblems: readonly string[];
  readonly counts: OutcomeCounts;
  /** Succeeded operations that repaired drift (reason drift_edited or drift_deleted, or a recreate). */
  readonly driftRepaired: number;
  /** At most 1000, by dealer, site and `external_contact_id`. */
  readonly failures: RunFailure[];
  /**
   * Contacts whose last write, in this run, CHeKT did not keep as sent (the echo check, docs/REACHABILITY.md):
   * it dropped the phone, changed its digits or stored a number that is not SMS-capable (at most 1000).
   */
  readonly reachProblems: Array<{ site: string; externalContactId: string; problem: string }>;
  /** Succeeded operations with a note (e.g. a field CHeKT refused, dropped and reported; at most 1000). */
  readonly notes: Array<{ dealerId: string; siteId: string; externalContactId: string; kind: string; note: string }>;
  /** Dry runs only: what would be done, per contact (at most 1000). */
  readonly plannedOperations: Array<{ dealerId: string; siteId: string; externalContactId: string; kind: string; reason: string | null }>;
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

/** What a run's detail adds to its report: a page of its operations and the sites it held. */
export interface RunOperationsPage {
  /** Ordered by dealer, site, `external_contact_id`. */
  readonly operations: { readonly total: number; readonly limit: number; readonly offset: number; readonly items: OperationItem[] };
  /** Sites whose deletes the run held: the summary's `held`, else (older runs) the `sync_holds` rows the run wrote. */
  readonly held: Hold[];
}

type Summary = StoredPlanSummary;

/** The `--json` object: one per run. */
export interface JsonRunReport {
  runId: string;
  /** The reported status word (domain/runStatus.ts), e.g. `completed_with_failures` or `held`. */
  status: ReportedRunStatus | string;
  dryRun: boolean;
  /** From start to finish in ms; null while the run has not finished. */
  durationMs: number | null;
  sites: { planned: number; rejected: Summary['rejectedSites']; errors: Summary['siteErrors'] };
  planned: Summary['totals'];
  counts: OutcomeCounts;
  failures: RunFailure[];
  /** Dry runs: each operation that would be made (at most 1000). */
  plannedOperations: RunView['plannedOperations'];
  invalid: Summary['invalid'];
  /** CRM rows and sites the source contract's checks left out (a key held twice, a site without CHeKT ids), with the reason. */
  sourceProblems: Summary['sourceProblems'];
  /** Contacts that sync with a field dropped or cut, with the reason (at most 500). */
  warnings: Summary['warnings'];
  unmanagedBySite: Record<string, number>;
  /** CHeKT sites holding contacts this service created that no CRM site maps to any more; left as they are. */
  unmappedSites: Summary['unmappedSites'];
  /** Sites whose deletes are held until an operator approves them, with the reason. */
  held: Hold[];
  /** Operations that repaired drift made in CHeKT (contacts edited or deleted there), succeeded. */
  driftRepaired: number;
  /**
   * Reachability (docs/REACHABILITY.md): planned sites left without an SMS-capable contact, planned sites made
   * reachable again, and contacts whose phone CHeKT did not keep as sent (the echo check).
   */
  unreachableSites: Summary['unreachableSites'];
  reachableAgainSites: Summary['reachableAgainSites'];
  reachProblems: RunView['reachProblems'];
  /** Succeeded operations with a note, e.g. a field CHeKT refused and the contact written without it. */
  notes: RunView['notes'];
  error: string | null;
  /** Only when the stored plan summary could not be read in full: each part that could not (read as absent). */
  summaryProblems?: string[];
}

/** Builds the JSON report of a run. A run without a (readable) summary reports empty lists and null `planned`. */
export function toJsonReport(run: RunView): JsonRunReport {
  const p = run.summary;
  const end = run.finishedAt ? Date.parse(run.finishedAt) : null;
  return {
    runId: run.id,
    status: runStatusOf(run.status, run.counts, p?.held?.length ?? 0),
    dryRun: run.dryRun,
    durationMs: end === null ? null : end - Date.parse(run.startedAt),
    sites: { planned: p?.totals?.sites ?? 0, rejected: p?.rejectedSites ?? [], errors: p?.siteErrors ?? [] },
    planned: p?.totals ?? null,
    counts: run.counts,
    failures: run.failures,
    plannedOperations: run.plannedOperations,
    invalid: p?.invalid ?? [],
    sourceProblems: p?.sourceProblems ?? [],
    warnings: p?.warnings ?? [],
    unmanagedBySite: p?.unmanagedBySite ?? {},
    unmappedSites: p?.unmappedSites ?? [],
    held: p?.held ?? [],
    driftRepaired: run.driftRepaired,
    unreachableSites: p?.unreachableSites ?? [],
    reachableAgainSites: p?.reachableAgainSites ?? [],
    reachProblems: run.reachProblems,
    notes: run.notes,
    error: run.error,
    ...(run.summaryProblems.length > 0 ? { summaryProblems: [...run.summaryProblems] } : {}),
  };
}

/** `GET /api/runs/:id` and the console's run page: the report plus the run's identity, times and operations. */
export type RunDetailJson = JsonRunReport & {
  trigger: string;
  startedAt: string;
  plannedAt: string | null;
  finishedAt: string | null;
  mode: string;
  approveDeletes: boolean;
  operations: RunOperationsPage['operations'];
};

/**
 * The run's report with its trigger, times, mode, a page of operations, and `held` from {@link RunOperationsPage}
 * (which falls back to the holds the run wrote). Keys keep the order the API has always answered in.
 */
export function toRunDetailJson(run: RunView, page: RunOperationsPage): RunDetailJson {
  return {
    ...toJsonReport(run),
    trigger: run.trigger,
    startedAt: run.startedAt,
    plannedAt: run.plannedAt,
    finishedAt: run.finishedAt,
    mode: run.mode,
    approveDeletes: run.approveDeletes,
    operations: page.operations,
    held: page.held,
  };
}
