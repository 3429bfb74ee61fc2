import pMap from 'p-map';
import pRetry from 'p-retry';
import { ChektNotFoundError, isChektError } from '../chekt/errors/index.js';
import type { ChektContactsApi } from '../chekt/types.js';
import type { SettledContact } from '../domain/changes.js';
import { planSite, planTotals, type LedgerEntry, type SitePlan } from '../domain/plan.js';
import { siteKey } from '../domain/site.js';
import type { Logger } from '../logger.js';
import type { ModePlan, PlannerDeps, PlanScope } from './planRequest.js';
import type { CrmSite } from './ports/planner.js';

/**
 * The `reconcile` mode of a plan: every selected site's CRM contacts against CHeKT's live list
 * (domain/plan.ts `planSite`), which finds drift made in CHeKT's portal. Contacts CHeKT already holds take
 * the CRM fingerprint in the ledger, so the next change tick does not plan them. A site whose CHeKT list
 * cannot be read is reported and left out of the plan; the other sites go on. `req.sites` empty: every enabled
 * site; `req.paceLists`: each list call first waits for {@link PlannerDeps.reconcileLimiter}.
 */
export async function reconcileSites(deps: PlannerDeps, req: Pick<PlanScope, 'sites' | 'paceLists'>, log: Logger): Promise<ModePlan> {
  const { crm, ledger: ledgerStore } = deps.store;
  const selection = await crm.selectSites(req.sites);
  const siteErrors: ModePlan['siteErrors'] = [];
  const plans: SitePlan[] = [];
  const settled: SettledContact[] = [];
  const sourceProblems = [...selection.problems];
  for (let i = 0; i < selection.sites.length; i += 200) {
    const batch = selection.sites.slice(i, i + 200);
    const [read, ledger] = await Promise.all([crm.readSiteContacts(batch, deps.rules), ledgerStore.read(batch)]);
    sourceProblems.push(...read.problems);
    const planned = await pMap(
      batch,
      (site) => planOneSite(deps, req, { site, desired: read.contacts.get(site.crmSiteId) ?? [], withheld: read.withheld.get(site.crmSiteId) }, ledger.get(siteKey(site)) ?? [], siteErrors, log),
      { concurrency: deps.listConcurrency ?? 4 },
    );
    for (const p of planned) {
      if (!p) continue;
      plans.push(p.plan);
      const fingerprints = read.fingerprints.get(p.plan.site.crmSiteId) ?? new Map<string, string>();
      const known = new Map(p.ledger.map((l) => [l.externalContactId, l.crmHash ?? null]));
      for (const ext of p.plan.inSync) {
        const fp = fingerprints.get(ext);
        if (fp && known.get(ext) !== fp) settled.push({ dealerId: p.plan.site.dealerId, siteId: p.plan.site.siteId, externalContactId: ext, fingerprint: fp, outcome: 'succeeded', reason: null });
      }
      // Recorded as skipped with the reason, so change ticks leave the contact alone until its CRM row changes:
      // it is reported by each reconcile, not on every tick.
      for (const u of p.plan.unaddressable) {
        const fp = fingerprints.get(u.externalContactId);
        if (fp) settled.push({ dealerId: p.plan.site.dealerId, siteId: p.plan.site.siteId, externalContactId: u.externalContactId, fingerprint: fp, outcome: 'skipped', reason: u.reason });
      }
    }
  }
  const notes = (pick: (p: SitePlan) => ReadonlyArray<{ externalContactId: string; reason: string }>) => plans.flatMap((p) => pick(p).map((n) => ({ site: siteKey(p.site), ...n })));
  const unmanagedBySite: Record<string, number> = {};
  for (const p of plans) if (p.unmanaged > 0) unmanagedBySite[siteKey(p.site)] = p.unmanaged;
  return {
    operations: plans.flatMap((p) => p.operations),
    settled,
    adoptions: plans.flatMap((p) => p.adoptions.map((a) => ({ site: p.site, ...a }))),
    totals: planTotals(plans),
    rejectedSites: selection.rejected,
    siteErrors,
    invalid: notes((p) => p.skipped),
    sourceProblems,
    warnings: notes((p) => p.warnings),
    unmanagedBySite,
    scope: req.sites.length === 0 ? null : selection.sites.map((s) => siteKey(s)),
    crmSiteIds: req.sites.length === 0 ? null : selection.sites.map((s) => s.crmSiteId),
  };
}

async function planOneSite(
  deps: PlannerDeps,
  req: Pick<PlanScope, 'paceLists'>,
  crm: { site: CrmSite; desired: Parameters<typeof planSite>[0]['desired']; withheld: ReadonlySet<string> | undefined },
  siteLedger: LedgerEntry[],
  siteErrors: ModePlan['siteErrors'],
  log: Logger,
): Promise<{ plan: SitePlan; ledger: LedgerEntry[] } | undefined> {
  const { site, desired, withheld } = crm;
  const ref = siteKey(site);
  let remote;
  try {
    if (req.paceLists) await deps.reconcileLimiter?.acquire();
    // Listing is read-only, so it is retried more than a write before the site is left out of the run.
    remote = await pRetry(() => deps.chekt.listContacts(site), {
      retries: 4,
      minTimeout: 500,
      randomize: true,
      shouldRetry: ({ error }) => isChektError(error) && error.retryable,
    });
  } catch (err) {
    if (!isChektError(err)) throw err;
    siteErrors.push({ site: ref, error: err.message });
    log.warn({ dealerId: site.dealerId, siteId: site.siteId, err }, 'cannot list CHeKT contacts; site left out of this run');
    return undefined;
  }
  const desiredIds = new Set(desired.map((c) => c.id));
  const others = remote.map((c) => c.externalContactId).filter((x): x is string => !!x && !desiredIds.has(x));
  const knownToCrm = await deps.store.crm.findKnownContactIds(others, site.crmSiteId);
  const plan = planSite({ site, desired, remote, ledger: siteLedger, knownToCrm, rules: deps.rules, ...(withheld ? { withheld } : {}) });
  const incomplete = await listLooksIncomplete(deps.chekt, site, plan, siteLedger);
  if (incomplete) {
    siteErrors.push({ site: ref, error: incomplete });
    log.warn({ dealerId: site.dealerId, siteId: site.siteId }, 'CHeKT list looks incomplete; site left out of this run');
    return undefined;
  }
  return { plan, ledger: siteLedger };
}

/**
 * CHeKT may page or cap its list (pagination is undocumented, docs/CHEKT-API.md#unknowns). A contact the ledger created
 * on this site but missing from the list is either deleted in CHeKT (drift: recreate it) or beyond the list's
 * end (a create would duplicate it, and a delete decision could not be trusted). One GET of the first such
 * contact tells which; when it still exists, the site is left out of the run with this reason.
 */
async function listLooksIncomplete(chekt: ChektContactsApi, site: CrmSite, plan: SitePlan, ledger: readonly LedgerEntry[]): Promise<string | null> {
  const created = new Map(ledger.filter((l) => l.chektContactId).map((l) => [l.externalContactId, l.chektContactId!]));
  const missing = plan.operations.find((o) => o.kind === 'create' && created.has(o.externalContactId));
  if (!missing) return null;
  const contactId = created.get(missing.externalContactId)!;
  try {
    const found = await chekt.getContact(site, contactId);
    if (found.externalContactId?.normalize('NFC') !== missing.externalContactId.normalize('NFC')) return null;
  } catch (err) {
    if (err instanceof ChektNotFoundError) return null;
    if (isChektError(err)) return `cannot check whether CHeKT's contact list is complete: ${err.message}`;
    throw err;
  }
  return `CHeKT's contact list omits contact ${contactId} (external_contact_id ${missing.externalContactId}) although it exists: the list looks paged or capped, so this site is not planned`;
}
