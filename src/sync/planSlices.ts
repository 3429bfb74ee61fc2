import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { planChanges, type ChangedRow, type ChangePlan, type RemovedRow } from '../domain/changes.js';
import type { NormalizeRules } from '../domain/contact.js';

/**
 * Rows planned between two yields of the event loop: about 20 ms of work on this project's 2-core machine
 * (planChanges takes about 2 s for 100,000 rows: phone parsing dominates).
 */
export const PLAN_SLICE_ROWS = 1000;

/**
 * {@link planChanges} over `changed` in slices of `sliceRows`, yielding the event loop between slices; the same
 * result as one call. Planning runs in the process that runs operation jobs, whose BullMQ locks are renewed by
 * timers on this loop: a loop blocked past the lock (30 s) loses them (docs/RETRIES.md "Fencing"), and any block
 * delays every job's CHeKT calls. Rows are independent, so slices can be planned apart.
 */
export async function planChangesInSlices(changed: readonly ChangedRow[], removed: readonly RemovedRow[], rules: NormalizeRules, sliceRows = PLAN_SLICE_ROWS): Promise<ChangePlan> {
  const out: ChangePlan = { operations: [], settled: [], skipped: [], warnings: [] };
  const add = (p: ChangePlan) => {
    for (const key of ['operations', 'settled', 'skipped', 'warnings'] as const) (out[key] as unknown[]).push(...p[key]);
  };
  for (let i = 0; i < changed.length; i += sliceRows) {
    add(planChanges(changed.slice(i, i + sliceRows), [], rules));
    await yieldToLoop();
  }
  add(planChanges([], removed, rules));
  return out;
}
