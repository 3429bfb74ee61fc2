import type { ChangedRow, RemovedRow, SettledContact } from '../../domain/changes.js';
import type { CrmContact, NormalizeRules } from '../../domain/contact.js';
import type { CrmSite, SourceProblem } from '../../domain/crmRows.js';
import type { LedgerEntry, PlannedOperation, PlanSite } from '../../domain/plan.js';
import type { SiteReachRow } from '../../domain/reach.js';
import type { Hold } from '../../domain/safety.js';
import type { SiteKey, SiteRef } from '../../domain/site.js';
import type { EnqueueCounts, PlanSummary } from '../../domain/runSummary.js';

/**
 * What the planner (../planRun.ts, ../reconcileSites.ts) needs from storage and the operations queue, as small
 * interfaces: sync/ declares them, source/planner.ts (`createPlannerStore`) and queue/producer.ts
 * (`createOperationEnqueuer`) implement them, the composition root wires them, and unit tests fake them in memory
 * (test/unit/fakes/planner.ts). Every read throws when its store cannot be read: the planner then plans nothing
 * (a failed read never looks like "no contacts").
 */

export type { CrmSite, SourceProblem };

/** Sites to plan, requested site keys that cannot be planned, and CRM sites left out (domain/crmRows.ts), with the reason. */
export interface SiteSelection {
  readonly sites: CrmSite[];
  readonly rejected: Array<{ readonly ref: string; readonly reason: string }>;
  readonly problems: readonly SourceProblem[];
}

/** Live contacts of CRM sites read in one snapshot (source/crm.ts `readSiteContacts`); every site id present. */
export interface SiteContacts {
  /** By CRM site id. */
  readonly contacts: Map<string, CrmContact[]>;
  /** Fingerprint by `external_contact_id`, by CRM site id. */
  readonly fingerprints: Map<string, Map<string, string>>;
  /** `external_contact_id`s of rows seen twice on a site: neither synced nor deleted. By CRM site id. */
  readonly withheld: Map<string, Set<string>>;
  readonly problems: readonly SourceProblem[];
}

/** What a change read found (source/changes.ts `readChanges`), from one CRM snapshot. */
export interface ChangeSet {
  readonly changed: ChangedRow[];
  readonly removed: RemovedRow[];
  /** CRM rows and sites left out, with the reason. */
  readonly problems: readonly SourceProblem[];
}

/** Scope and settings of a change read. */
export interface ChangeScope {
  /** CRM site ids to read; null = every site with `sync_enabled`. */
  readonly crmSiteIds: readonly string[] | null;
  readonly rules: NormalizeRules;
  /** A row whose operation failed for good is read again only after this many seconds (unless it changes). */
  readonly failedCooldownSeconds: number;
}

/** One site's numbers for the deletion holds (domain/safety.ts). */
export interface SiteCounts {
  /** Live CRM contacts. */
  readonly live: number;
  /** Contacts this service manages in CHeKT (ledger rows with a `contact_id`). */
  readonly managed: number;
  /** Contacts this service deleted from the site within the hold window, outside approved runs. */
  readonly recentDeletes: number;
}

/** Reads of the partner's CRM through the source contract (docs/CRM.md): source/crm.ts. */
export interface CrmReads {
  /** The CRM database's clock now: when the plan read the CRM (compared with the workers' reads, source/runs.ts). */
  clock(): Promise<Date>;
  /**
   * Every site with `sync_enabled` when `refs` is empty, else the requested ones; a requested site missing from
   * the CRM or with sync disabled is rejected with a reason.
   */
  selectSites(refs: readonly SiteRef[]): Promise<SiteSelection>;
  /** The CRM sites with these CRM site ids (any `sync_enabled`). */
  selectSitesById(crmSiteIds: readonly string[]): Promise<CrmSite[]>;
  /** Live contacts of the given CRM sites with their fingerprints, in one snapshot. */
  readSiteContacts(sites: readonly CrmSite[], rules: NormalizeRules): Promise<SiteContacts>;
  /** Which of `ids` are contacts (live or soft-deleted) of the CRM site `crmSiteId`. */
  findKnownContactIds(ids: readonly string[], crmSiteId: string): Promise<Set<string>>;
}

/** The CRM against the ledger (source/changes.ts): a change tick's reads. */
export interface ChangeReads {
  /**
   * Live contacts of enabled sites whose fingerprint differs from the ledger's, or whose change is pending, and
   * contacts the ledger holds in CHeKT on an enabled CRM site that are no longer live CRM contacts of it.
   */
  readChanges(scope: ChangeScope): Promise<ChangeSet>;
  /** Of the given CRM sites, those whose CHeKT site has no ledger row at all (never synced). */
  readUnseenSites(crmSiteIds: readonly string[]): Promise<PlanSite[]>;
  /** {@link SiteCounts} of the given CRM sites, by site key; `windowSeconds` is `DELETE_HOLD_WINDOW_SECONDS`. */
  readSiteCounts(crmSiteIds: readonly string[], windowSeconds: number): Promise<Map<SiteKey, SiteCounts>>;
  /** Contacts this service manages on the given CRM sites (null = every enabled site). */
  countManaged(crmSiteIds: readonly string[] | null): Promise<number>;
}

/** The sync ledger (`sync_ledger`, source/ledger.ts) as the planner reads and writes it. */
export interface PlannerLedger {
  /** Ledger entries of the given CHeKT sites, by site key (every site present, maybe empty). */
  read(sites: readonly SiteRef[]): Promise<Map<SiteKey, LedgerEntry[]>>;
  /** Records a CHeKT contact taken into the ledger instead of created again (adopt). */
  adopt(a: { site: SiteRef; externalContactId: string; chektContactId: string; runId: string; now: Date }): Promise<void>;
  /** Records contacts settled without a CHeKT call: the ledger takes their CRM fingerprint. */
  settle(settled: readonly SettledContact[], runId: string | null, now: Date): Promise<void>;
  /** Marks contacts as having a change planned and not yet applied (`pending_since`, kept if already set). */
  markPending(ops: readonly PlannedOperation[], now: Date): Promise<void>;
  /** CHeKT sites where the ledger holds managed contacts but no CRM site maps to any more (at most 100). */
  findUnmappedSites(): Promise<Array<{ site: SiteKey; contacts: number }>>;
}

/** Deletion holds (`sync_holds`, source/holds.ts). */
export interface HoldStore {
  /** Every stored hold, by site key. */
  read(): Promise<Map<SiteKey, Hold>>;
  /**
   * Stores `holds` and removes the stored holds of `scope` sites (null = every site) that are not among them,
   * except those of `keep` (sites not planned: their CHeKT list could not be read).
   */
  save(holds: readonly Hold[], scope: readonly SiteKey[] | null, runId: string | null, now: Date, keep: ReadonlySet<SiteKey>): Promise<void>;
}

/** What started a run (`sync_runs.trigger`). */
export type RunTrigger = 'schedule' | 'notify' | 'reconcile_schedule' | 'cli' | 'api' | 'console' | 'demo';

/** A run to create (status `planning`). */
export interface NewRun {
  readonly id: string;
  readonly trigger: RunTrigger;
  readonly dryRun: boolean;
  /** Site keys asked for; empty = every enabled site. */
  readonly sites: readonly SiteKey[];
  readonly mode: 'changes' | 'reconcile';
  readonly approveDeletes: boolean;
  readonly now: Date;
}

/** Runs (`sync_runs`) and their operations (`sync_operations`): source/runs.ts. */
export interface RunStore {
  create(run: NewRun): Promise<void>;
  /** Marks a run failed (its planning failed, so nothing was planned). */
  fail(runId: string, error: string, now: Date): Promise<void>;
  /**
   * Records a run's plan: the summary and one operation row per planned operation (`queued`, `held` for a key in
   * `heldKeys`, `planned` in a dry run); a run with nothing to execute is completed at once.
   */
  recordPlan(run: { id: string; dryRun: boolean; summary: PlanSummary; operations: readonly PlannedOperation[]; heldKeys: ReadonlySet<string>; crmReadAt: Date; now: Date }): Promise<void>;
  /** Stores the summary again once the run's jobs are enqueued (with {@link PlanSummary.enqueue}). */
  recordEnqueued(runId: string, summary: PlanSummary): Promise<void>;
  /** Runs still `running` whose plan was recorded more than `olderThanMs` ago (newest first, at most 50). */
  listStale(olderThanMs: number, now: Date): Promise<string[]>;
}

/** Reachability reads (source/reach.ts, docs/REACHABILITY.md). */
export interface ReachReads {
  /**
   * Reachability of the enabled CRM sites among `crmSiteIds` (null = every one) once the plan is applied;
   * `rewritten(site, externalContactId)` names contacts about to be written (their next echo check decides).
   */
  readSiteReach(rules: NormalizeRules, crmSiteIds: readonly string[] | null, options: { rewritten: (site: string, externalContactId: string) => boolean }): Promise<SiteReachRow[]>;
  /** SMS-capable and managed contacts this service holds in CHeKT per site key, by the phones last sent. */
  readSentReach(rules: NormalizeRules, crmSiteIds: readonly string[] | null): Promise<Map<string, { managed: number; smsCapable: number }>>;
  /** SMS-capable contacts per site key among these contacts, by the phone last sent (for planned deletes). */
  countSmsCapableSent(rules: NormalizeRules, contacts: ReadonlyArray<{ dealerId: string; siteId: string; externalContactId: string }>): Promise<Map<string, number>>;
}

/** The operations queue (queue/producer.ts). */
export interface OperationEnqueuer {
  /**
   * Adds one job per operation under its deterministic job id (a pending job of the same contact is joined);
   * deletes on sites in `approveDeletes` carry the operator's approval.
   */
  enqueue(runId: string, operations: readonly PlannedOperation[], approveDeletes: ReadonlySet<SiteKey>): Promise<EnqueueCounts>;
}

/** The stores the planner reads and writes (source/planner.ts `createPlannerStore` builds them over PostgreSQL). */
export interface PlannerStore {
  readonly crm: CrmReads;
  readonly changes: ChangeReads;
  readonly ledger: PlannerLedger;
  readonly holds: HoldStore;
  readonly runs: RunStore;
  readonly reach: ReachReads;
}
