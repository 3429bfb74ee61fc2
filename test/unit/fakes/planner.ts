import { ChektNotFoundError } from '../../../src/chekt/errors/index.js';
import type { ChektContactsApi } from '../../../src/chekt/types.js';
import type { RateLimiter } from '../../../src/chekt/rateLimiter.js';
import type { ChektContact } from '../../../src/domain/chektContact.js';
import { DEFAULT_RULES, contentHash, prepareContact, type CrmContact } from '../../../src/domain/contact.js';
import type { PlannedOperation } from '../../../src/domain/plan.js';
import type { Hold, HoldRules } from '../../../src/domain/safety.js';
import { siteKey, type SiteKey, type SiteRef } from '../../../src/domain/site.js';
import { createLogger } from '../../../src/logger.js';
import type { ControlDeps } from '../../../src/sync/control.js';
import type { PlanSummary } from '../../../src/domain/runSummary.js';
import type { ControlEnqueuer } from '../../../src/sync/ports/control.js';
import type { CrmSite, NewRun, OperationEnqueuer, PlannerStore } from '../../../src/sync/ports/planner.js';
import { CLOCK, fakeStore, fingerprintOf } from './plannerStore.js';

export { CLOCK, fingerprintOf };

/**
 * In-memory fakes of the planner's ports (src/sync/ports/planner.ts, src/sync/ports/control.ts) and of CHeKT's
 * read-only contact list: one small world of CRM sites and contacts, ledger rows, holds, runs and enqueued jobs.
 * Its stores (./plannerStore.ts) read it with the meaning the SQL of src/source/ gives each read. Unit tests
 * build one per test and inspect it after.
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

export const HOLD_RULES: HoldRules = { maxDeleteSharePercent: 10, minDeletesForShare: 2, minContacts: 1, windowSeconds: 3600, minSmsContacts: 1 };

/** A CRM contact with defaults (an SMS-capable North American phone). */
export function crmContact(id: string, crmSiteId: string, over: Partial<CrmContact> = {}): CrmContact {
  return { id, crmSiteId, firstName: 'Ann', lastName: `Lee ${id}`, phoneNumber: '+1 201 555 0123', email: `${id}@example.com`, deletedAt: null, ...over };
}

/** The CHeKT copy of `c` as a create would have left it. */
export function chektCopy(contactId: string, c: CrmContact, over: Partial<ChektContact> = {}): ChektContact {
  return { contactId, externalContactId: c.id, firstName: c.firstName, lastName: c.lastName, phoneNumber: '+12015550123', email: c.email, createdAt: '2026-01-01T00:00:00.000Z', ...over };
}

/** Store operation names a test can make fail ("crm.readLiveContacts", "changes.readChangedContacts", ...). */
export type FailPoint = `${keyof PlannerStore}.${string}`;

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

  live(crmSiteId: string): CrmContact[] {
    return this.contacts.filter((c) => c.crmSiteId === crmSiteId && c.deletedAt === null).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  enabled(crmSiteIds: readonly string[] | null): CrmSite[] {
    return this.sites.filter((s) => s.syncEnabled && (crmSiteIds === null || crmSiteIds.includes(s.crmSiteId)));
  }

  rowsOf(site: SiteRef): FakeLedgerRow[] {
    return [...this.ledger.values()].filter((r) => r.dealerId === site.dealerId && r.siteId === site.siteId);
  }

  /** The planner's stores over this world (./plannerStore.ts). */
  store(): PlannerStore {
    return fakeStore(this);
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
