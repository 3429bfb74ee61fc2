import { ChektNotFoundError } from '../../../src/chekt/errors/index.js';
import type { ChektContactsApi } from '../../../src/chekt/types.js';
import type { RateLimiter } from '../../../src/chekt/rateLimiter.js';
import type { ChangedRow, RemovedRow } from '../../../src/domain/changes.js';
import type { ChektContact } from '../../../src/domain/chektContact.js';
import { DEFAULT_RULES, contentHash, prepareContact, type CrmContact, type NormalizeRules } from '../../../src/domain/contact.js';
import type { PlannedOperation } from '../../../src/domain/plan.js';
import { classifyPhone, contactReach, isSmsCapable, siteReach, type SiteReachRow } from '../../../src/domain/reach.js';
import type { Hold, HoldRules } from '../../../src/domain/safety.js';
import { siteKey, type SiteKey, type SiteRef } from '../../../src/domain/site.js';
import { createLogger } from '../../../src/logger.js';
import type { ControlDeps } from '../../../src/sync/control.js';
import type { PlanSummary } from '../../../src/sync/planSummary.js';
import type { ControlEnqueuer } from '../../../src/sync/ports/control.js';
import type { ChangeScope, CrmSite, NewRun, OperationEnqueuer, PlannerStore } from '../../../src/sync/ports/planner.js';

/**
 * In-memory fakes of the planner's ports (src/sync/ports/planner.ts, src/sync/ports/control.ts) and of CHeKT's
 * read-only contact list: one small world of CRM sites and contacts, ledger rows, holds, runs and enqueued jobs,
 * with the meaning the SQL of src/source/ gives each read. Unit tests build one per test and inspect it after.
 */

/** A ledger row (`sync_ledger`), as far as the planner reads and writes it. */
export interface FakeLedgerRow {
  readonly dealerId: string;
  readonly siteId: string;
  readonly externalContactId: string;
  chektContactId: string | null;
  lastSentHash: string | null;
  /** `last_sent->>'phone_number'`. */
  sentPhone: string | null;
  reachProblem: string | null;
  crmHash: string | null;
  pending: boolean;
  lastKind: string | null;
  lastOutcome: string | null;
  lastError: string | null;
  runId: string | null;
}

/** A run (`sync_runs`) with its operations (`sync_operations`: op key to outcome). */
export interface FakeRun extends NewRun {
  status: 'planning' | 'running' | 'completed' | 'failed';
  error: string | null;
  summary: PlanSummary | null;
  crmReadAt: Date | null;
  operations: Map<string, string>;
}

/** One `enqueue` call. */
export interface Enqueued {
  readonly runId: string;
  readonly operations: readonly PlannedOperation[];
  readonly approveDeletes: ReadonlySet<SiteKey>;
}

export const CLOCK = new Date('2026-03-01T12:00:00.000Z');

export const HOLD_RULES: HoldRules = { maxDeleteSharePercent: 10, minDeletesForShare: 2, minContacts: 1, windowSeconds: 3600, minSmsContacts: 1 };

/** A fingerprint standing in for source/changes.ts `fingerprintSql` (any value that changes with the row will do). */
export const fingerprintOf = (c: CrmContact): string => `fp:${JSON.stringify([c.firstName, c.lastName, c.phoneNumber, c.email])}`;

/** A CRM contact with defaults (an SMS-capable North American phone). */
export function crmContact(id: string, crmSiteId: string, over: Partial<CrmContact> = {}): CrmContact {
  return { id, crmSiteId, firstName: 'Ann', lastName: `Lee ${id}`, phoneNumber: '+1 201 555 0123', email: `${id}@example.com`, deletedAt: null, updatedAt: new Date('2026-01-01T00:00:00Z'), ...over };
}

/** The CHeKT copy of `c` as a create would have left it. */
export function chektCopy(contactId: string, c: CrmContact, over: Partial<ChektContact> = {}): ChektContact {
  return { contactId, externalContactId: c.id, firstName: c.firstName, lastName: c.lastName, phoneNumber: '+12015550123', email: c.email, createdAt: '2026-01-01T00:00:00.000Z', ...over };
}

/** Store operation names a test can make fail ("crm.readLiveContacts", "changes.readChangedContacts", ...). */
export type FailPoint = `${keyof PlannerStore}.${string}`;

/** A port's methods, answering at once instead of with a promise. */
type Sync<T> = { [M in keyof T]: T[M] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never };

export class FakeWorld {
  readonly sites: CrmSite[] = [];
  readonly contacts: CrmContact[] = [];
  readonly ledger = new Map<string, FakeLedgerRow>();
  readonly holds = new Map<SiteKey, Hold & { runId: string | null; heldAt: Date }>();
  readonly runs = new Map<string, FakeRun>();
  readonly enqueued: Enqueued[] = [];
  readonly resyncJobs: Array<Parameters<ControlEnqueuer['enqueueResync']>[0]> = [];
  /** CHeKT's lists, by site key. */
  readonly chektLists = new Map<SiteKey, ChektContact[]>();
  /** Contacts CHeKT holds but leaves out of its list (a paged or capped list), by site key. */
  readonly unlisted = new Map<SiteKey, ChektContact[]>();
  /** CHeKT list calls that fail, by site key. */
  readonly listFailures = new Map<SiteKey, Error>();
  /** Contacts deleted within the hold window, by site key (source/changes.ts `readSiteCounts` `recent`). */
  readonly recentDeletes = new Map<SiteKey, number>();
  /** Runs `runs.listStale` answers. */
  stale: string[] = [];
  readonly requeued: string[] = [];
  readonly failing = new Set<FailPoint>();
  readonly calls: string[] = [];
  readonly chektCalls: string[] = [];
  paced = 0;

  /** Adds a CRM site; `dealerId/siteId` from `key`. */
  site(crmSiteId: string, key: string, over: Partial<CrmSite> = {}): CrmSite {
    const [dealerId, siteId] = key.split('/') as [string, string];
    const s: CrmSite = { crmSiteId, dealerId, siteId, name: `Site ${crmSiteId}`, syncEnabled: true, ...over };
    this.sites.push(s);
    return s;
  }

  /** Adds a live CRM contact. */
  contact(id: string, crmSiteId: string, over: Partial<CrmContact> = {}): CrmContact {
    const c = crmContact(id, crmSiteId, over);
    this.contacts.push(c);
    return c;
  }

  /**
   * Records `c` as synced to CHeKT under `contactId` (ledger row with its fingerprint and sent hash), and puts
   * the CHeKT copy into the site's list.
   */
  synced(c: CrmContact, contactId: string): void {
    const site = this.siteOf(c.crmSiteId);
    const prepared = prepareContact(c, DEFAULT_RULES);
    this.setLedger(site, c.id, {
      chektContactId: contactId,
      lastSentHash: prepared.ok ? contentHash(prepared.contact) : null,
      sentPhone: prepared.ok && prepared.contact.phone.state === 'value' ? prepared.contact.phone.value : null,
      crmHash: fingerprintOf(c),
      lastKind: 'create',
      lastOutcome: 'succeeded',
    });
    const key = siteKey(site);
    this.chektLists.set(key, [...(this.chektLists.get(key) ?? []), chektCopy(contactId, c)]);
  }

  /** Replaces a contact's CRM row (an edit). */
  edit(id: string, over: Partial<CrmContact>): void {
    const i = this.contacts.findIndex((c) => c.id === id);
    this.contacts[i] = { ...this.contacts[i]!, ...over };
  }

  ledgerRow(key: string, externalContactId: string): FakeLedgerRow | undefined {
    return this.ledger.get(`${key}\n${externalContactId}`);
  }

  setLedger(site: SiteRef, externalContactId: string, over: Partial<FakeLedgerRow>): FakeLedgerRow {
    const k = `${siteKey(site)}\n${externalContactId}`;
    const row: FakeLedgerRow = this.ledger.get(k) ?? {
      dealerId: site.dealerId,
      siteId: site.siteId,
      externalContactId,
      chektContactId: null,
      lastSentHash: null,
      sentPhone: null,
      reachProblem: null,
      crmHash: null,
      pending: false,
      lastKind: null,
      lastOutcome: null,
      lastError: null,
      runId: null,
    };
    Object.assign(row, over);
    this.ledger.set(k, row);
    return row;
  }

  siteOf(crmSiteId: string): CrmSite {
    const s = this.sites.find((x) => x.crmSiteId === crmSiteId);
    if (!s) throw new Error(`no CRM site ${crmSiteId}`);
    return s;
  }

  private live(crmSiteId: string): CrmContact[] {
    return this.contacts.filter((c) => c.crmSiteId === crmSiteId && c.deletedAt === null).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  private enabled(crmSiteIds: readonly string[] | null): CrmSite[] {
    return this.sites.filter((s) => s.syncEnabled && (crmSiteIds === null || crmSiteIds.includes(s.crmSiteId)));
  }

  private rowsOf(site: SiteRef): FakeLedgerRow[] {
    return [...this.ledger.values()].filter((r) => r.dealerId === site.dealerId && r.siteId === site.siteId);
  }

  /** Wraps each store function: counts the call, and throws when a test made it fail. */
  private guard<K extends keyof PlannerStore>(area: K, fns: Sync<PlannerStore[K]>): PlannerStore[K] {
    const out: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(fns) as Array<[string, (...args: unknown[]) => unknown]>) {
      out[name] = async (...args: unknown[]) => {
        const point: FailPoint = `${area}.${name}`;
        this.calls.push(point);
        if (this.failing.has(point)) throw new Error(`${point}: connection refused`);
        return fn(...args);
      };
    }
    return out as unknown as PlannerStore[K];
  }

  store(): PlannerStore {
    return {
      crm: this.guard('crm', {
        clock: () => CLOCK,
        selectSites: (refs: readonly SiteRef[]) => {
          if (refs.length === 0) return { sites: this.enabled(null), rejected: [] };
          const sites: CrmSite[] = [];
          const rejected: Array<{ ref: string; reason: string }> = [];
          for (const ref of refs) {
            const s = this.sites.find((x) => x.dealerId === ref.dealerId && x.siteId === ref.siteId);
            if (!s) rejected.push({ ref: siteKey(ref), reason: 'no CRM site with this chekt_dealer_id/chekt_site_id' });
            else if (!s.syncEnabled) rejected.push({ ref: siteKey(ref), reason: 'sync_enabled is false for this site' });
            else if (!sites.includes(s)) sites.push(s);
          }
          return { sites, rejected };
        },
        selectSitesById: (ids: readonly string[]) => this.sites.filter((s) => ids.includes(s.crmSiteId)),
        readLiveContacts: (ids: readonly string[]) => new Map(ids.map((id) => [id, this.live(id)])),
        findKnownContactIds: (ids: readonly string[], crmSiteId: string) => new Set(this.contacts.filter((c) => c.crmSiteId === crmSiteId && ids.includes(c.id)).map((c) => c.id)),
        readFingerprints: (ids: readonly string[]) => new Map(ids.flatMap((id) => this.live(id)).map((c) => [c.id, fingerprintOf(c)])),
      }),
      changes: this.guard('changes', {
        readChangedContacts: (scope: ChangeScope): ChangedRow[] =>
          this.enabled(scope.crmSiteIds).flatMap((s) =>
            this.live(s.crmSiteId).flatMap((c) => {
              const l = this.ledgerRow(siteKey(s), c.id);
              if (l && l.crmHash === fingerprintOf(c) && !l.pending) return [];
              return [{ contact: c, crmSiteId: s.crmSiteId, dealerId: s.dealerId, siteId: s.siteId, fingerprint: fingerprintOf(c), chektContactId: l?.chektContactId ?? null, lastSentHash: l?.lastSentHash ?? null, pending: l?.pending ?? false }];
            }),
          ),
        readRemovedContacts: (scope: ChangeScope): RemovedRow[] =>
          this.enabled(scope.crmSiteIds).flatMap((s) =>
            this.rowsOf(s)
              .filter((l) => l.chektContactId !== null && !this.live(s.crmSiteId).some((c) => c.id === l.externalContactId))
              .map((l) => ({ crmSiteId: s.crmSiteId, dealerId: s.dealerId, siteId: s.siteId, externalContactId: l.externalContactId, chektContactId: l.chektContactId! })),
          ),
        readUnseenSites: (ids: readonly string[]) =>
          this.sites.filter((s) => ids.includes(s.crmSiteId) && this.rowsOf(s).length === 0).map((s) => ({ crmSiteId: s.crmSiteId, dealerId: s.dealerId, siteId: s.siteId })),
        readSiteCounts: (ids: readonly string[]) =>
          new Map(
            this.sites
              .filter((s) => ids.includes(s.crmSiteId))
              .map((s) => [siteKey(s), { live: this.live(s.crmSiteId).length, managed: this.rowsOf(s).filter((l) => l.chektContactId !== null).length, recentDeletes: this.recentDeletes.get(siteKey(s)) ?? 0 }]),
          ),
        countManaged: (ids: readonly string[] | null) => this.enabled(ids).flatMap((s) => this.rowsOf(s)).filter((l) => l.chektContactId !== null).length,
      }),
      ledger: this.guard('ledger', {
        read: (sites: readonly SiteRef[]) =>
          new Map(sites.map((s) => [siteKey(s), this.rowsOf(s).map((l) => ({ externalContactId: l.externalContactId, chektContactId: l.chektContactId, lastSentHash: l.lastSentHash, lastEchoHash: null, crmHash: l.crmHash }))])),
        adopt: (a: { site: SiteRef; externalContactId: string; chektContactId: string; runId: string }) => {
          this.setLedger(a.site, a.externalContactId, { chektContactId: a.chektContactId, lastKind: 'adopt', lastOutcome: 'succeeded', runId: a.runId });
        },
        settle: (settled: ReadonlyArray<{ dealerId: string; siteId: string; externalContactId: string; fingerprint: string; outcome: string; reason: string | null }>, runId: string | null) => {
          for (const s of settled) this.setLedger(s, s.externalContactId, { crmHash: s.fingerprint, lastOutcome: s.outcome, lastError: s.reason, pending: false, runId, ...(s.outcome === 'skipped' ? { lastKind: 'skip' } : {}) });
        },
        markPending: (ops: readonly PlannedOperation[]) => {
          for (const o of ops) this.setLedger(o, o.externalContactId, { pending: true });
        },
        findUnmappedSites: () => {
          const counts = new Map<SiteKey, number>();
          for (const l of this.ledger.values()) {
            if (l.chektContactId === null || this.sites.some((s) => s.dealerId === l.dealerId && s.siteId === l.siteId)) continue;
            counts.set(siteKey(l), (counts.get(siteKey(l)) ?? 0) + 1);
          }
          return [...counts].map(([site, contacts]) => ({ site, contacts }));
        },
      }),
      holds: this.guard('holds', {
        read: () => new Map([...this.holds].map(([k, h]) => [k, { site: h.site, reason: h.reason, deletes: h.deletes, managed: h.managed }])),
        save: (holds: readonly Hold[], scope: readonly SiteKey[] | null, runId: string | null, now: Date, keep: ReadonlySet<SiteKey>) => {
          const held = new Set(holds.map((h) => h.site));
          for (const s of scope ?? [...this.holds.keys()]) if (!held.has(s) && !keep.has(s)) this.holds.delete(s);
          for (const h of holds) this.holds.set(h.site, { ...h, runId, heldAt: this.holds.get(h.site)?.heldAt ?? now });
        },
      }),
      runs: this.guard('runs', {
        create: (run: NewRun) => {
          if (this.runs.has(run.id)) throw new Error(`duplicate run ${run.id}`);
          this.runs.set(run.id, { ...run, status: 'planning', error: null, summary: null, crmReadAt: null, operations: new Map() });
        },
        fail: (runId: string, error: string) => {
          const r = this.runs.get(runId)!;
          r.status = 'failed';
          r.error = error;
        },
        recordPlan: (p: { id: string; dryRun: boolean; summary: PlanSummary; operations: readonly PlannedOperation[]; heldKeys: ReadonlySet<string>; crmReadAt: Date }) => {
          const r = this.runs.get(p.id);
          if (!r) throw new Error(`no run ${p.id}`);
          for (const o of p.operations) r.operations.set(o.opKey, p.heldKeys.has(o.opKey) ? 'held' : p.dryRun ? 'planned' : 'queued');
          r.summary = p.summary;
          r.crmReadAt = p.crmReadAt;
          r.status = p.dryRun || p.operations.every((o) => p.heldKeys.has(o.opKey)) ? 'completed' : 'running';
        },
        recordEnqueued: (runId: string, summary: PlanSummary) => {
          this.runs.get(runId)!.summary = summary;
        },
        listStale: () => this.stale,
      }),
      reach: this.guard('reach', {
        readSiteReach: (rules: NormalizeRules, ids: readonly string[] | null, options: { rewritten: (site: string, ext: string) => boolean }): SiteReachRow[] =>
          this.enabled(ids).map((s) => {
            const counted = this.live(s.crmSiteId).map((c) => {
              const prepared = prepareContact(c, rules);
              const l = this.ledgerRow(siteKey(s), c.id);
              const current = prepared.ok && prepared.contact.phone.state === 'value' && prepared.contact.phone.value === l?.sentPhone;
              const problem = options.rewritten(siteKey(s), c.id) || !current ? null : (l?.reachProblem ?? null);
              return { ...contactReach(prepared, c.phoneNumber, rules, problem), synced: prepared.ok };
            });
            return { site: siteKey(s), crmSiteId: s.crmSiteId, ...siteReach(counted) };
          }),
        readSentReach: (rules: NormalizeRules, ids: readonly string[] | null) => {
          const out = new Map<string, { managed: number; smsCapable: number }>();
          for (const s of this.enabled(ids)) {
            for (const l of this.rowsOf(s).filter((x) => x.chektContactId !== null)) {
              const e = out.get(siteKey(s)) ?? { managed: 0, smsCapable: 0 };
              e.managed += 1;
              if (this.sentSmsCapable(l, rules)) e.smsCapable += 1;
              out.set(siteKey(s), e);
            }
          }
          return out;
        },
        countSmsCapableSent: (rules: NormalizeRules, contacts: ReadonlyArray<{ dealerId: string; siteId: string; externalContactId: string }>) => {
          const out = new Map<string, number>();
          for (const c of contacts) {
            const l = this.ledgerRow(siteKey(c), c.externalContactId);
            if (!l || l.chektContactId === null) continue;
            out.set(siteKey(c), (out.get(siteKey(c)) ?? 0) + (this.sentSmsCapable(l, rules) ? 1 : 0));
          }
          return out;
        },
      }),
    };
  }

  private sentSmsCapable(l: FakeLedgerRow, rules: NormalizeRules): boolean {
    return l.reachProblem === null && isSmsCapable(classifyPhone(l.sentPhone, rules));
  }

  operations(): OperationEnqueuer {
    return {
      enqueue: async (runId, operations, approveDeletes) => {
        this.calls.push('operations.enqueue');
        this.enqueued.push({ runId, operations: [...operations], approveDeletes: new Set(approveDeletes) });
        return { added: operations.length, joined: 0, replaced: 0 };
      },
    };
  }

  /** CHeKT's Contacts API, read-only: a write throws (the planner never writes). */
  chekt(): ChektContactsApi {
    const refuse = (what: string) => () => Promise.reject(new Error(`the planner called ${what}`));
    return {
      listContacts: async (site) => {
        this.chektCalls.push(`list ${siteKey(site)}`);
        const failure = this.listFailures.get(siteKey(site));
        if (failure) throw failure;
        return [...(this.chektLists.get(siteKey(site)) ?? [])];
      },
      getContact: async (site, contactId) => {
        this.chektCalls.push(`get ${siteKey(site)} ${contactId}`);
        const all = [...(this.chektLists.get(siteKey(site)) ?? []), ...(this.unlisted.get(siteKey(site)) ?? [])];
        const found = all.find((c) => c.contactId === contactId);
        if (!found) throw new ChektNotFoundError({ endpoint: 'GET contacts/{id}', status: 404 });
        return found;
      },
      createContact: refuse('createContact'),
      updateContact: refuse('updateContact'),
      deleteContact: refuse('deleteContact'),
    };
  }

  /** A rate limiter that counts its grants (the scheduled reconcile's pacing). */
  limiter(): RateLimiter {
    return {
      acquire: async () => {
        this.paced += 1;
      },
    };
  }

  /** The deps of the planner and the control use cases, over this world. */
  deps(over: Partial<ControlDeps> = {}): ControlDeps {
    return {
      store: this.store(),
      operations: this.operations(),
      control: { enqueueResync: async (job) => void this.resyncJobs.push(job) },
      requeueOrphans: async (runId) => {
        this.requeued.push(runId);
        return 0;
      },
      chekt: this.chekt(),
      rules: DEFAULT_RULES,
      holdRules: HOLD_RULES,
      failedCooldownSeconds: 3600,
      logger: createLogger('silent'),
      now: () => CLOCK,
      reconcileLimiter: this.limiter(),
      ...over,
    };
  }

  /** Every operation enqueued, as `kind external_contact_id reason`. */
  enqueuedOps(): string[] {
    return this.enqueued.flatMap((e) => e.operations.map((o) => `${o.kind} ${o.externalContactId} ${o.reason}`));
  }
}
