import type { RateLimiter } from '../chekt/rateLimiter.js';
import type { ChektContactsApi } from '../chekt/types.js';
import type { SettledContact } from '../domain/changes.js';
import type { NormalizeRules } from '../domain/contact.js';
import type { PlannedOperation, PlanTotals } from '../domain/plan.js';
import type { HoldRules } from '../domain/safety.js';
import type { SourceProblem } from '../domain/crmRows.js';
import type { SiteKey, SiteRef } from '../domain/site.js';
import type { Logger } from '../logger.js';
import type { ContactNote, PlanSummary } from '../domain/runSummary.js';
import type { OperationEnqueuer, PlannerStore } from './ports/planner.js';

/**
 * The planner's request and dependencies (./planRun.ts, ./reconcileSites.ts), in a file of their own so the two
 * modes' files import them from here and not from each other.
 */

/** What the planner needs: its stores and queue (./ports/planner.ts), CHeKT's lists, and settings. */
export interface PlannerDeps {
  readonly store: PlannerStore;
  readonly operations: OperationEnqueuer;
  /** Read-only here: a reconcile lists sites' contacts (and gets one to check a list is complete). */
  readonly chekt: ChektContactsApi;
  readonly rules: NormalizeRules;
  readonly holdRules: HoldRules;
  /** Config `FAILED_RETRY_COOLDOWN_SECONDS`. */
  readonly failedCooldownSeconds: number;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Sites listed in parallel by a reconcile (each list still waits for the shared rate limit). Default 4. */
  readonly listConcurrency?: number;
  /** Paces the list calls of a scheduled reconcile (`RECONCILE_RATE_SHARE_PERCENT` of the rate limit). */
  readonly reconcileLimiter?: RateLimiter;
}

/**
 * A plan started by the job scheduler or by a CRM notification. The planner writes its run row, and only when
 * the plan has something to enqueue or holds a site anew: a quiet tick leaves no history. Never a dry run,
 * approves nothing; a failed CRM read leaves no row (the next tick tries again).
 * - `change_tick`: the CRM's changes on every enabled site (every `SYNC_INTERVAL_SECONDS`; trigger `schedule`);
 * - `notified_changes`: the CRM's changes on the CRM sites PostgreSQL notified (trigger `notify`);
 * - `scheduled_reconcile`: every enabled site against CHeKT's lists (`RECONCILE_CRON`; trigger
 *   `reconcile_schedule`), its list calls paced by {@link PlannerDeps.reconcileLimiter}.
 */
export type ScheduledPlan =
  | { readonly kind: 'change_tick'; readonly runId: string }
  | { readonly kind: 'notified_changes'; readonly runId: string; readonly crmSiteIds: readonly string[] }
  | { readonly kind: 'scheduled_reconcile'; readonly runId: string };

/**
 * A plan of a run whose row the caller wrote (status `planning`: ./startRun.ts, ./requestResync.ts), so it is
 * always recorded, and a failed CRM read marks it failed.
 * - `resync`: an operator's reconcile (CLI, API, console, demo) of `sites` (empty: every enabled site);
 *   `approveDeletes` lifts the holds of `sites` for the deletes each hold showed (domain/safety.ts);
 * - `changes_run`: a change plan of every enabled site with a run of its own (tests, tools).
 */
export type RecordedPlan =
  | { readonly kind: 'resync'; readonly runId: string; readonly sites: readonly SiteRef[]; readonly dryRun: boolean; readonly approveDeletes: boolean }
  | { readonly kind: 'changes_run'; readonly runId: string; readonly dryRun: boolean };

/** A plan to make: what each caller means, the planner derives the rest (./planRun.ts `shapeOf`). */
export type PlanRequest = ScheduledPlan | RecordedPlan;

/** What the planner reads for a request: its mode and scope. */
export interface PlanScope {
  readonly mode: 'changes' | 'reconcile';
  /** Reconcile: sites to plan; empty = every site with `sync_enabled`. */
  readonly sites: readonly SiteRef[];
  /** Changes: CRM site ids to plan; null = every enabled site. */
  readonly crmSiteIds: readonly string[] | null;
  /** Pace list calls with {@link PlannerDeps.reconcileLimiter}. */
  readonly paceLists: boolean;
}

/** What a mode's planning hands to the common tail (./planRun.ts). */
export interface ModePlan {
  readonly operations: PlannedOperation[];
  readonly settled: SettledContact[];
  readonly adoptions: Array<{ site: SiteRef; externalContactId: string; chektContactId: string }>;
  readonly totals: PlanTotals;
  readonly rejectedSites: PlanSummary['rejectedSites'];
  readonly siteErrors: PlanSummary['siteErrors'];
  readonly invalid: ContactNote[];
  /** CRM rows and sites left out by the source contract's checks (domain/crmRows.ts), with the reason. */
  readonly sourceProblems: SourceProblem[];
  readonly warnings: ContactNote[];
  readonly unmanagedBySite: Record<string, number>;
  /** Sites planned, for clearing their holds; null = every site. */
  readonly scope: SiteKey[] | null;
  /** CRM site ids planned, for the run-wide managed count; null = every enabled site. */
  readonly crmSiteIds: string[] | null;
}
