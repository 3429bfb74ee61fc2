import type { ChangedRow, RemovedRow } from '../../../src/domain/changes.js';
import { prepareContact, type CrmContact, type NormalizeRules } from '../../../src/domain/contact.js';
import type { PlannedOperation } from '../../../src/domain/plan.js';
import { classifyPhone, contactReach, isSmsCapable, siteReach, type SiteReachRow } from '../../../src/domain/reach.js';
import type { Hold } from '../../../src/domain/safety.js';
import { siteKey, type SiteKey, type SiteRef } from '../../../src/domain/site.js';
import type { PlanSummary } from '../../../src/domain/runSummary.js';
import type { ChangeScope, CrmSite, NewRun, PlannerStore } from '../../../src/sync/ports/planner.js';
import type { FailPoint, FakeLedgerRow, FakeWorld } from './planner.js';

/** The database clock every fake read answers. */
export const CLOCK = new Date('2026-03-01T12:00:00.000Z');

/** A fingerprint standing in for source/changes.ts `fingerprintSql` (any value that changes with the row will do). */
export const fingerprintOf = (c: CrmContact): string => `fp:${JSON.stringify([c.firstName, c.lastName, c.phoneNumber, c.email])}`;

/** A port's methods, answering at once instead of with a promise. */
type Sync<T> = { [M in keyof T]: T[M] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never };

/**
 * The planner's stores (src/sync/ports/planner.ts) over a {@link FakeWorld}, each read with the meaning the SQL
 * of src/source/ gives it. Every call is counted in `world.calls` and fails when the test put it in
 * `world.failing`.
 */
export function fakeStore(w: FakeWorld): PlannerStore {
  return {
    crm: guard(w, 'crm', {
      clock: () => CLOCK,
      selectSites: (refs: readonly SiteRef[]) => {
        if (refs.length === 0) return { sites: w.enabled(null), rejected: [], problems: [] };
        const sites: CrmSite[] = [];
        const rejected: Array<{ ref: string; reason: string }> = [];
        for (const ref of refs) {
          const s = w.sites.find((x) => x.dealerId === ref.dealerId && x.siteId === ref.siteId);
          if (!s) rejected.push({ ref: siteKey(ref), reason: 'no CRM site with this chekt_dealer_id/chekt_site_id' });
          else if (!s.syncEnabled) rejected.push({ ref: siteKey(ref), reason: 'sync_enabled is false for this site' });
          else if (!sites.includes(s)) sites.push(s);
        }
        return { sites, rejected, problems: [] };
      },
      selectSitesById: (ids: readonly string[]) => w.sites.filter((s) => ids.includes(s.crmSiteId)),
      readSiteContacts: (sites: readonly CrmSite[]) => ({
        contacts: new Map(sites.map(({ crmSiteId: id }) => [id, w.live(id)])),
        fingerprints: new Map(sites.map(({ crmSiteId: id }) => [id, new Map(w.live(id).map((c) => [c.id, fingerprintOf(c)]))])),
        withheld: new Map(),
        problems: [],
      }),
      findKnownContactIds: (ids: readonly string[], crmSiteId: string) => new Set(w.contacts.filter((c) => c.crmSiteId === crmSiteId && ids.includes(c.id)).map((c) => c.id)),
    }),
    changes: guard(w, 'changes', {
      readChanges: (scope: ChangeScope) => ({ changed: changedOf(w, scope), removed: removedOf(w, scope), problems: [] }),
      readUnseenSites: (ids: readonly string[]) =>
        w.sites.filter((s) => ids.includes(s.crmSiteId) && w.rowsOf(s).length === 0).map((s) => ({ crmSiteId: s.crmSiteId, dealerId: s.dealerId, siteId: s.siteId })),
      readSiteCounts: (ids: readonly string[]) =>
        new Map(
          w.sites
            .filter((s) => ids.includes(s.crmSiteId))
            .map((s) => [siteKey(s), { live: w.live(s.crmSiteId).length, managed: w.rowsOf(s).filter((l) => l.chektContactId !== null).length, recentDeletes: w.recentDeletes.get(siteKey(s)) ?? 0 }]),
        ),
      countManaged: (ids: readonly string[] | null) =>
        w
          .enabled(ids)
          .flatMap((s) => w.rowsOf(s))
          .filter((l) => l.chektContactId !== null).length,
    }),
    ledger: guard(w, 'ledger', {
      read: (sites: readonly SiteRef[]) =>
        new Map(
          sites.map((s) => [
            siteKey(s),
            w.rowsOf(s).map((l) => ({ externalContactId: l.externalContactId, chektContactId: l.chektContactId, lastSentHash: l.lastSentHash, lastEchoHash: null, crmHash: l.crmHash })),
          ]),
        ),
      adopt: (a: { site: SiteRef; externalContactId: string; chektContactId: string; runId: string }) => {
        w.setLedger(a.site, a.externalContactId, { chektContactId: a.chektContactId, lastKind: 'adopt', lastOutcome: 'succeeded', runId: a.runId });
      },
      settle: (settled: ReadonlyArray<{ dealerId: string; siteId: string; externalContactId: string; fingerprint: string; outcome: string; reason: string | null }>, runId: string | null) => {
        for (const s of settled)
          w.setLedger(s, s.externalContactId, { crmHash: s.fingerprint, lastOutcome: s.outcome, lastError: s.reason, pending: false, runId, ...(s.outcome === 'skipped' ? { lastKind: 'skip' } : {}) });
      },
      markPending: (ops: readonly PlannedOperation[]) => {
        for (const o of ops) w.setLedger(o, o.externalContactId, { pending: true });
      },
      findUnmappedSites: () => {
        const counts = new Map<SiteKey, number>();
        for (const l of w.ledger.values()) {
          if (l.chektContactId === null || w.sites.some((s) => s.dealerId === l.dealerId && s.siteId === l.siteId)) continue;
          counts.set(siteKey(l), (counts.get(siteKey(l)) ?? 0) + 1);
        }
        return [...counts].map(([site, contacts]) => ({ site, contacts }));
      },
    }),
    holds: guard(w, 'holds', {
      read: () => new Map([...w.holds].map(([k, h]) => [k, { site: h.site, reason: h.reason, deletes: h.deletes, managed: h.managed }])),
      save: (holds: readonly Hold[], scope: readonly SiteKey[] | null, runId: string | null, now: Date, keep: ReadonlySet<SiteKey>) => {
        const held = new Set(holds.map((h) => h.site));
        for (const s of scope ?? [...w.holds.keys()]) if (!held.has(s) && !keep.has(s)) w.holds.delete(s);
        for (const h of holds) w.holds.set(h.site, { ...h, runId, heldAt: w.holds.get(h.site)?.heldAt ?? now });
      },
    }),
    runs: guard(w, 'runs', {
      create: (run: NewRun) => {
        if (w.runs.has(run.id)) throw new Error(`duplicate run ${run.id}`);
        w.runs.set(run.id, { ...run, status: 'planning', error: null, summary: null, crmReadAt: null, operations: new Map() });
      },
      fail: (runId: string, error: string) => {
        const r = w.runs.get(runId)!;
        r.status = 'failed';
        r.error = error;
      },
      recordPlan: (p: { id: string; dryRun: boolean; summary: PlanSummary; operations: readonly PlannedOperation[]; heldKeys: ReadonlySet<string>; crmReadAt: Date }) => {
        const r = w.runs.get(p.id);
        if (!r) throw new Error(`no run ${p.id}`);
        for (const o of p.operations) r.operations.set(o.opKey, p.heldKeys.has(o.opKey) ? 'held' : p.dryRun ? 'planned' : 'queued');
        r.summary = p.summary;
        r.crmReadAt = p.crmReadAt;
        r.status = p.dryRun || p.operations.every((o) => p.heldKeys.has(o.opKey)) ? 'completed' : 'running';
      },
      recordEnqueued: (runId: string, summary: PlanSummary) => {
        w.runs.get(runId)!.summary = summary;
      },
      listStale: () => w.stale,
    }),
    reach: guard(w, 'reach', {
      readSiteReach: (rules: NormalizeRules, ids: readonly string[] | null, options: { rewritten: (site: string, ext: string) => boolean }): SiteReachRow[] =>
        w.enabled(ids).map((s) => {
          const counted = w.live(s.crmSiteId).map((c) => {
            const prepared = prepareContact(c, rules);
            const l = w.ledgerRow(siteKey(s), c.id);
            const current = prepared.ok && prepared.contact.phone.state === 'value' && prepared.contact.phone.value === l?.sentPhone;
            const problem = options.rewritten(siteKey(s), c.id) || !current ? null : (l?.reachProblem ?? null);
            return { ...contactReach(prepared, c.phoneNumber, rules, problem), synced: prepared.ok };
          });
          return { site: siteKey(s), crmSiteId: s.crmSiteId, ...siteReach(counted) };
        }),
      readSentReach: (rules: NormalizeRules, ids: readonly string[] | null) => {
        const out = new Map<string, { managed: number; smsCapable: number }>();
        for (const s of w.enabled(ids)) {
          for (const l of w.rowsOf(s).filter((x) => x.chektContactId !== null)) {
            const e = out.get(siteKey(s)) ?? { managed: 0, smsCapable: 0 };
            e.managed += 1;
            if (sentSmsCapable(l, rules)) e.smsCapable += 1;
            out.set(siteKey(s), e);
          }
        }
        return out;
      },
      countSmsCapableSent: (rules: NormalizeRules, contacts: ReadonlyArray<{ dealerId: string; siteId: string; externalContactId: string }>) => {
        const out = new Map<string, number>();
        for (const c of contacts) {
          const l = w.ledgerRow(siteKey(c), c.externalContactId);
          if (!l || l.chektContactId === null) continue;
          out.set(siteKey(c), (out.get(siteKey(c)) ?? 0) + (sentSmsCapable(l, rules) ? 1 : 0));
        }
        return out;
      },
    }),
  };
}

/** Wraps each store function: counts the call, and throws when a test made it fail. */
function guard<K extends keyof PlannerStore>(w: FakeWorld, area: K, fns: Sync<PlannerStore[K]>): PlannerStore[K] {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(fns) as Array<[string, (...args: unknown[]) => unknown]>) {
    out[name] = async (...args: unknown[]) => {
      const point: FailPoint = `${area}.${name}`;
      w.calls.push(point);
      if (w.failing.has(point)) throw new Error(`${point}: connection refused`);
      return fn(...args);
    };
  }
  return out as unknown as PlannerStore[K];
}

function sentSmsCapable(l: FakeLedgerRow, rules: NormalizeRules): boolean {
  return l.reachProblem === null && isSmsCapable(classifyPhone(l.sentPhone, rules));
}

/** Live contacts of enabled sites whose fingerprint differs from the ledger's, or whose change is pending. */
function changedOf(w: FakeWorld, scope: ChangeScope): ChangedRow[] {
  return w.enabled(scope.crmSiteIds).flatMap((s) =>
    w.live(s.crmSiteId).flatMap((c) => {
      const l = w.ledgerRow(siteKey(s), c.id);
      if (l && l.crmHash === fingerprintOf(c) && !l.pending) return [];
      return [
        {
          contact: c,
          crmSiteId: s.crmSiteId,
          dealerId: s.dealerId,
          siteId: s.siteId,
          fingerprint: fingerprintOf(c),
          chektContactId: l?.chektContactId ?? null,
          lastSentHash: l?.lastSentHash ?? null,
          pending: l?.pending ?? false,
        },
      ];
    }),
  );
}

/** Ledger contacts in CHeKT on enabled sites that are no longer live CRM contacts of their site. */
function removedOf(w: FakeWorld, scope: ChangeScope): RemovedRow[] {
  return w.enabled(scope.crmSiteIds).flatMap((s) =>
    w
      .rowsOf(s)
      .filter((l) => l.chektContactId !== null && !w.live(s.crmSiteId).some((c) => c.id === l.externalContactId))
      .map((l) => ({ crmSiteId: s.crmSiteId, dealerId: s.dealerId, siteId: s.siteId, externalContactId: l.externalContactId, chektContactId: l.chektContactId! })),
  );
}
