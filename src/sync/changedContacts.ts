import { externalIdProblem } from '../domain/contact.js';
import { planTotals, type PlanTotals } from '../domain/plan.js';
import { siteKey } from '../domain/site.js';
import type { Logger } from '../logger.js';
import type { ModePlan, PlannerDeps } from './planRequest.js';
import { planChangesInSlices } from './planSlices.js';
import { reconcileSites } from './reconcileSites.js';

/**
 * The `changes` mode of a plan: CRM rows whose fingerprint differs from the ledger's, and removed contacts
 * (domain/changes.ts `planChanges`), read in the database with no CHeKT call. A site the ledger has never seen
 * (a first sync, or a site new to the CRM) is reconciled instead (./reconcileSites.ts): one list call finds
 * contacts CHeKT already holds (adopted, not created twice) and the dealer's own (left alone).
 * `crmSiteIds`: the CRM sites to plan; null = every enabled site.
 */
export async function planChangedContacts(deps: PlannerDeps, crmSiteIds: readonly string[] | null, log: Logger): Promise<ModePlan> {
  const { crm, changes } = deps.store;
  const scope = { crmSiteIds, rules: deps.rules, failedCooldownSeconds: deps.failedCooldownSeconds };
  const [{ changed: allChanged, removed, problems }, sites] = await Promise.all([changes.readChanges(scope), crmSiteIds === null ? Promise.resolve(null) : crm.selectSitesById(crmSiteIds)]);
  // Contacts with an unusable id get no ledger row, so they must not make their site look never seen.
  const creatable = allChanged.filter((r) => !r.chektContactId && !externalIdProblem(r.contact.id));
  const unseen = await changes.readUnseenSites([...new Set(creatable.map((r) => r.crmSiteId))]);
  const unseenIds = new Set(unseen.map((s) => s.crmSiteId));
  const changed = unseenIds.size === 0 ? allChanged : allChanged.filter((r) => !unseenIds.has(r.crmSiteId));
  const first = unseen.length === 0 ? null : await reconcileSites(deps, { sites: unseen, paceLists: false }, log);
  const p = await planChangesInSlices(changed, removed, deps.rules);
  const t = planTotals([]);
  t.sites = new Set([...p.operations.map((o) => siteKey(o)), ...p.settled.map((s) => siteKey(s))]).size;
  for (const o of p.operations) t[o.kind === 'create' ? 'creates' : o.kind === 'update' ? 'updates' : 'deletes'] += 1;
  t.unchanged = p.settled.filter((s) => s.outcome === 'succeeded').length;
  t.invalid = p.skipped.length;
  t.warnings = p.warnings.length;
  const own: ModePlan = {
    operations: p.operations,
    settled: p.settled,
    adoptions: [],
    totals: t,
    rejectedSites: [],
    siteErrors: [],
    invalid: p.skipped,
    sourceProblems: [...problems],
    warnings: p.warnings,
    unmanagedBySite: {},
    scope: sites === null ? null : sites.map((s) => siteKey(s)),
    crmSiteIds: crmSiteIds === null ? null : [...crmSiteIds],
  };
  return first ? mergePlans(own, first) : own;
}

/** A change plan with the reconcile of its unseen sites folded in (scope and site ids stay the change plan's). */
function mergePlans(a: ModePlan, b: ModePlan): ModePlan {
  const totals = { ...a.totals };
  for (const k of Object.keys(totals) as Array<keyof PlanTotals>) totals[k] += b.totals[k];
  return {
    ...a,
    operations: [...a.operations, ...b.operations],
    settled: [...a.settled, ...b.settled],
    adoptions: [...a.adoptions, ...b.adoptions],
    totals,
    siteErrors: [...a.siteErrors, ...b.siteErrors],
    invalid: [...a.invalid, ...b.invalid],
    warnings: [...a.warnings, ...b.warnings],
    unmanagedBySite: { ...a.unmanagedBySite, ...b.unmanagedBySite },
  };
}
