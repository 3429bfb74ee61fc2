import type { SiteKey } from '../../domain/site.js';

/**
 * The control queue as sync/ uses it (../requestResync.ts): implemented by queue/control.ts
 * `createControlEnqueuer`, faked in memory by unit tests.
 */
export interface ControlEnqueuer {
  /**
   * Queues the plan of a resync whose run row exists, for the control worker (../control.ts `runResync`).
   * `sites` empty: every enabled site. One job per run.
   */
  enqueueResync(job: { runId: string; sites: readonly SiteKey[]; dryRun: boolean; approveDeletes: boolean }): Promise<void>;
}
