import { z } from 'zod';
import type { SiteNote } from './changes.js';
import type { SourceProblem } from './crmRows.js';
import type { PlanTotals } from './plan.js';
import type { UnreachableSite } from './reach.js';
import type { Hold } from './safety.js';
import type { SiteKey } from './site.js';

/**
 * The plan summary of a run: what the planner stores in `sync_runs.planned` (JSONB) and what every reader
 * (run history, `GET /api/runs/:id`, `npm run sync -- --json`, the console) gets back from it. Pure.
 *
 * The writer's type is {@link PlanSummary}; readers go through {@link readPlanSummary} only, once per row, so a
 * row written by an earlier version reads the same everywhere. Shapes that were stored (git history of the
 * planner; `sync_runs.planned` has been JSONB since the first migration, `20261130000000_init`):
 * 1. the first version: `totals` (the nine {@link PlanTotals} counts), `rejectedSites`, `siteErrors`, `invalid`,
 *    `warnings`, `unmanagedBySite`, `enqueue`;
 * 2. then `unmappedSites`;
 * 3. with change ticks and deletion holds: `mode`, `recorded`, `held`, and `totals.held`, `totals.driftRepairs`;
 * 4. with reachability (docs/REACHABILITY.md): `unreachableSites`, `reachableAgainSites`;
 * 5. with the source contract (docs/CRM.md#bad-rows): `sourceProblems` (today's shape).
 * A list or map absent from an older row reads as empty; `held` absent reads as null (the run predates holds:
 * the run's `sync_holds` rows tell instead); `totals.held`, `totals.driftRepairs`, `mode` and `recorded` stay
 * absent (never counted then, so not reported as 0).
 *
 * `src/source/readModel/siteState.ts` also reads `invalid[].site`, `.externalContactId` and `.reason` in SQL:
 * keep those names.
 */

/** A contact-level note kept in the run summary (an invalid contact, a dropped field). */
export type ContactNote = SiteNote;

/** What enqueuing a run's jobs did (queue/producer.ts `enqueueOperations`): jobs added, joined, replaced. */
export interface EnqueueCounts {
  readonly added: number;
  readonly joined: number;
  readonly replaced: number;
}

/** A planned site left with no SMS-capable contact (docs/REACHABILITY.md; ./reach.ts). */
export type UnreachableSiteNote = UnreachableSite;

/** The plan's counts: {@link PlanTotals} plus held deletes and drift repairs. */
export type RunTotals = PlanTotals & { held: number; driftRepairs: number };

/** Stored as `sync_runs.planned` by the planner and returned to its callers. Lists are capped at {@link NOTE_LIMIT}. */
export interface PlanSummary {
  readonly mode: 'changes' | 'reconcile';
  /** False when a quiet scheduled plan left no run row (nothing to enqueue and no new hold). */
  readonly recorded: boolean;
  readonly totals: RunTotals;
  /** Requested sites not planned: missing from the CRM or `sync_enabled = false`. `ref` is the site as asked. */
  readonly rejectedSites: Array<{ ref: string; reason: string }>;
  /** Sites whose CHeKT list could not be read: left out of the plan, with the error. */
  readonly siteErrors: Array<{ site: SiteKey; error: string }>;
  readonly invalid: ContactNote[];
  /** CRM rows and sites the source contract's checks left out, with the reason (domain/crmRows.ts; shape 5). */
  readonly sourceProblems: SourceProblem[];
  readonly warnings: ContactNote[];
  /** CHeKT contacts a dealer made (unmanaged, left alone), per site key. */
  readonly unmanagedBySite: Record<string, number>;
  /** CHeKT sites holding contacts this service created that no CRM site maps to any more (full runs only). */
  readonly unmappedSites: Array<{ site: string; contacts: number }>;
  /** Sites whose deletes are held, with the reason (domain/safety.ts). */
  readonly held: Hold[];
  /**
   * Planned sites that will have no SMS-capable contact once the plan is applied (docs/REACHABILITY.md), and
   * planned sites that had none in CHeKT and will have one again. Capped at {@link NOTE_LIMIT} each.
   */
  readonly unreachableSites: UnreachableSiteNote[];
  readonly reachableAgainSites: Array<{ site: string; smsCapable: number }>;
  /** Null until the jobs are enqueued (and for a dry run). */
  readonly enqueue: EnqueueCounts | null;
}

/** Longest list kept in a run summary. */
export const NOTE_LIMIT = 500;

const count = z.number();
const siteKeyText = z.string().transform((s) => s as SiteKey);
const note = z.object({ site: z.string(), externalContactId: z.string(), reason: z.string() });
const planTotalsShape = {
  sites: count,
  creates: count,
  updates: count,
  deletes: count,
  unchanged: count,
  adopted: count,
  invalid: count,
  warnings: count,
  unmanaged: count,
} satisfies Record<keyof PlanTotals, typeof count>;

/** Every field of a stored summary, each readable on its own (see {@link readPlanSummary}). */
const storedShape = {
  mode: z.enum(['changes', 'reconcile']).optional(),
  recorded: z.boolean().optional(),
  totals: z.object({ ...planTotalsShape, held: count.optional(), driftRepairs: count.optional() }).nullable(),
  rejectedSites: z.array(z.object({ ref: z.string(), reason: z.string() })).default([]),
  siteErrors: z.array(z.object({ site: siteKeyText, error: z.string() })).default([]),
  invalid: z.array(note).default([]),
  sourceProblems: z.array(z.object({ crmSiteId: z.string().nullable(), externalContactId: z.string().nullable(), reason: z.string() })).default([]),
  warnings: z.array(note).default([]),
  unmanagedBySite: z.record(z.string(), count).default({}),
  unmappedSites: z.array(z.object({ site: z.string(), contacts: count })).default([]),
  held: z
    .array(z.object({ site: siteKeyText, reason: z.string(), deletes: count, managed: count }))
    .nullable()
    .default(null),
  unreachableSites: z.array(z.object({ site: z.string(), contacts: count, smsCapable: z.literal(0), reason: z.string() })).default([]),
  reachableAgainSites: z.array(z.object({ site: z.string(), smsCapable: count })).default([]),
  enqueue: z.object({ added: count, joined: count, replaced: count }).nullable().default(null),
};

/** The schema of `sync_runs.planned` as read: every shape listed in the module comment parses. */
export const storedPlanSummarySchema = z.object(storedShape);

/**
 * A stored summary as read back: {@link PlanSummary} with the fields older versions did not write filled in
 * (see the module comment), and `totals` null when the row's totals cannot be read.
 */
export type StoredPlanSummary = z.output<typeof storedPlanSummarySchema>;

/** What {@link readPlanSummary} returns. */
export interface PlanSummaryRead {
  /** Null when nothing is stored (the run is still planning, or planning failed) or it is not a JSON object. */
  readonly summary: StoredPlanSummary | null;
  /**
   * One line per part that could not be read (e.g. `planned.totals.creates: Invalid input: expected number,
   * received string`); such a part reads as absent (as in the oldest rows) and the rest as stored. Empty when
   * the row reads in full.
   */
  readonly problems: string[];
}

/** The value a field takes when it is unreadable: what an absent one reads as (`totals`: null). */
const fallback = (key: keyof typeof storedShape): unknown => (key === 'totals' ? null : storedShape[key].parse(undefined));

/**
 * Reads a stored `sync_runs.planned` value (already JSON-decoded). Never throws: a value no version wrote
 * (a hand edit, a truncated write) gives the parts that read and a problem line for each part that does not.
 */
export function readPlanSummary(json: unknown): PlanSummaryRead {
  if (json === null || json === undefined) return { summary: null, problems: [] };
  const whole = storedPlanSummarySchema.safeParse(json);
  if (whole.success) return { summary: whole.data, problems: [] };
  if (typeof json !== 'object' || Array.isArray(json)) {
    return { summary: null, problems: [`planned: expected a JSON object, received ${Array.isArray(json) ? 'an array' : typeof json}`] };
  }
  const stored = json as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(storedShape) as Array<keyof typeof storedShape>) {
    const r = storedShape[key].safeParse(stored[key]);
    if (r.success) {
      if (r.data !== undefined) out[key] = r.data;
      continue;
    }
    const issue = r.error.issues[0];
    const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more)` : '';
    problems.push(`${['planned', key, ...(issue?.path ?? [])].join('.')}: ${issue?.message ?? 'unreadable'}${more}`);
    const value = fallback(key);
    if (value !== undefined) out[key] = value;
  }
  return { summary: out as StoredPlanSummary, problems };
}

// Every summary the planner writes reads back (types): a field added to PlanSummary without a schema is a
// compile error here, not a value the readers silently drop.
type Missing<T, Shape> = Exclude<keyof T, keyof Shape>;
const _everyFieldRead: [Missing<PlanSummary, typeof storedShape> | Missing<RunTotals, z.input<typeof storedShape.totals> & object>] extends [never] ? true : never = true;
const _writtenIsReadable = (s: PlanSummary): z.input<typeof storedPlanSummarySchema> => s;
void _everyFieldRead;
void _writtenIsReadable;
