/**
 * The status word a run is reported with (API, CLI header, status tables, console; docs/CONSOLE.md "Status
 * words"). `sync_runs.status` stores the lifecycle only (planning | running | completed | failed); a run that
 * finished with held deletes or failed operations must not read as a plain success, so the word is derived
 * from what happened, first match wins:
 * 1. a stored status other than `completed` is reported as it is (`planning`, `running`, `failed`);
 * 2. `held`: the run held deletes (a site on hold, or held delete operations): an operator must approve;
 * 3. `completed_with_failures`: at least one operation failed for good;
 * 4. `completed`.
 */

/** Every word {@link reportedRunStatus} can return. */
export type ReportedRunStatus = 'planning' | 'running' | 'completed' | 'completed_with_failures' | 'held' | 'failed';

/** What happened in a run: counts of operations failed for good, and of held sites or held delete operations. */
export interface RunOutcomeFacts {
  readonly failed: number;
  readonly held: number;
}

/** The reported status of a run whose stored lifecycle status is `stored` (see the module comment). */
export function reportedRunStatus(stored: string, facts: RunOutcomeFacts): ReportedRunStatus | string {
  if (stored !== 'completed') return stored;
  if (facts.held > 0) return 'held';
  if (facts.failed > 0) return 'completed_with_failures';
  return 'completed';
}

/** Lifecycle of a run as stored in `sync_runs.status`. */
export type StoredRunStatus = 'planning' | 'running' | 'completed' | 'failed';

/** Counts of a run's operations per kind and outcome, e.g. `{ create: { succeeded: 3, failed: 1 } }`. */
export type OutcomeCounts = Record<string, Record<string, number>>;

/** Operations with `outcome`, summed over every kind. */
export function countOutcome(counts: OutcomeCounts, outcome: string): number {
  return Object.values(counts).reduce((n, byOutcome) => n + (byOutcome[outcome] ?? 0), 0);
}

/**
 * The reported status of a run from what is stored: its lifecycle status, its operations' counts, and the
 * number of sites its plan held. Held means held sites or held delete operations, whichever is more (a worker's
 * delete gate holds operations of a site the plan did not hold).
 */
export function runStatusOf(stored: string, counts: OutcomeCounts, heldSites: number): ReportedRunStatus | string {
  return reportedRunStatus(stored, { failed: countOutcome(counts, 'failed'), held: Math.max(heldSites, counts.delete?.held ?? 0) });
}
