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
