import { ChektConflictError, ChektNotFoundError } from '../../../src/chekt/errors/index.js';
import type { ChektContact, CreateContactBody, UpdateContactBody } from '../../../src/domain/chektContact.js';
import { DEFAULT_RULES, type CrmContact, type NormalizeRules } from '../../../src/domain/contact.js';
import { opKey } from '../../../src/domain/opKey.js';
import type { OperationReason } from '../../../src/domain/plan.js';
import { classifyPhone, isSmsCapable } from '../../../src/domain/reach.js';
import type { Hold } from '../../../src/domain/safety.js';
import { siteKey, type SiteKey, type SiteRef } from '../../../src/domain/site.js';
import { createLogger } from '../../../src/logger.js';
import type { CallScope, ChektContactsApi, LedgerWrite, LockedSite, OperationInHand, OperationStore, SettleResult } from '../../../src/sync/ports/operations.js';
import type { Attempt, LifecycleDeps } from '../../../src/sync/runOperation.js';

/**
 * In-memory fakes of the operation lifecycle's ports (src/sync/ports/operations.ts): one small world of CRM sites
 * and contacts, ledger rows, runs with their operations, holds, and a CHeKT whose answers a test can script.
 * The store answers each read with the meaning the SQL of src/source/operationContext.ts and src/source/runs.ts
 * gives it. Unit tests build one per test and inspect it after.
 */

/** A ledger row (`sync_ledger`). */
export interface FakeLedgerRow {
  chektContactId: string | null;
  /** `last_sent->>'phone_number'`. */
  sentPhone: string | null;
  sentHash: string | null;
  echoHash: string | null;
  crmHash: string | null;
  reachProblem: string | null;
  failedHash: string | null;
  lastKind: string | null;
  lastOutcome: string | null;
  lastError: string | null;
  runId: string | null;
}

/** One row of `sync_operations`. */
export interface FakeOperation {
  readonly runId: string;
  readonly opKey: string;
  readonly kind: 'create' | 'update' | 'delete';
  readonly dealerId: string;
  readonly siteId: string;
  readonly externalContactId: string;
  outcome: string;
  appliedKind: string | null;
  error: string | null;
  attempts: number;
}

/** A run (`sync_runs`). */
export interface FakeRun {
  status: 'running' | 'completed';
  /** The database clock when the run read the CRM (null: not recorded). */
  crmReadAt: Date | null;
}

/** A call CHeKT received. */
export interface FakeCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly site: SiteKey;
  readonly contactId?: string;
  readonly body?: unknown;
}

/** The world the fakes share. Every field may be changed by a test between and during attempts. */
export interface World {
  readonly sites: Map<string, { readonly dealerId: string; readonly siteId: string; syncEnabled: boolean }>;
  readonly contacts: Map<string, CrmContact>;
  /** By `${siteKey}\n${externalContactId}`. */
  readonly ledger: Map<string, FakeLedgerRow>;
  readonly runs: Map<string, FakeRun>;
  readonly operations: FakeOperation[];
  /** By site key (`10/1`). */
  readonly holds: Map<string, Hold & { readonly runId: string | null }>;
  /** CHeKT's contacts per site key (`10/1`). */
  readonly chekt: Map<string, ChektContact[]>;
  /** Every CHeKT request, in order (writes only when fenced out: none). */
  readonly calls: FakeCall[];
  /** Errors CHeKT answers the next requests of a method with, in order (then it answers normally). */
  readonly failNext: Map<FakeCall['method'], Error[]>;
  /** What CHeKT stores for a phone it is sent (default: the same text): to test the echo check. */
  storePhone: (sent: string) => string | null;
  /** The database clock, in ms; every read moves it 1 ms on. */
  clock: number;
  /** Called after each context read (a test changes the CRM "while the job runs"). */
  afterRead?: (op: OperationInHand, read: number) => void;
}

/** A fresh world with one enabled CRM site `s1` for CHeKT site 10/1. */
export function newWorld(): World {
  return {
    sites: new Map([['s1', { dealerId: '10', siteId: '1', syncEnabled: true }]]),
    contacts: new Map(),
    ledger: new Map(),
    runs: new Map(),
    operations: [],
    holds: new Map(),
    chekt: new Map(),
    calls: [],
    failNext: new Map(),
    storePhone: (sent) => sent,
    clock: Date.UTC(2026, 0, 1),
  };
}

export const SITE: SiteRef = { dealerId: '10', siteId: '1' };

/** A CRM contact on `s1` (or `crmSiteId`). */
export function crm(id: string, fields: Partial<Omit<CrmContact, 'id'>> = {}): CrmContact {
  return { id, crmSiteId: 's1', firstName: 'Ada', lastName: `Last ${id}`, phoneNumber: '+12015550123', email: null, deletedAt: null, ...fields };
}

const ledgerKey = (site: SiteRef, externalContactId: string) => `${siteKey(site)}\n${externalContactId}`;

/** A ledger row as a synced contact leaves it. */
export function ledgerRow(fields: Partial<FakeLedgerRow>): FakeLedgerRow {
  return {
    chektContactId: null,
    sentPhone: null,
    sentHash: null,
    echoHash: null,
    crmHash: null,
    reachProblem: null,
    failedHash: null,
    lastKind: null,
    lastOutcome: null,
    lastError: null,
    runId: null,
    ...fields,
  };
}

/** Puts a contact into CHeKT and the ledger, as a sync that created it leaves them; returns its `contact_id`. */
export function synced(w: World, contact: CrmContact, site: SiteRef = SITE): string {
  w.contacts.set(contact.id, contact);
  const list = w.chekt.get(siteKey(site)) ?? [];
  const contactId = String(1000 + list.length + w.calls.length);
  list.push({ contactId, externalContactId: contact.id, firstName: contact.firstName, lastName: contact.lastName, phoneNumber: contact.phoneNumber, email: contact.email, createdAt: null });
  w.chekt.set(siteKey(site), list);
  w.ledger.set(ledgerKey(site, contact.id), ledgerRow({ chektContactId: contactId, sentPhone: contact.phoneNumber, crmHash: fingerprintOf(contact), lastOutcome: 'succeeded' }));
  return contactId;
}

/** Plans one operation in a run (its `sync_operations` row, queued) and returns it as the worker receives it. */
export function plan(
  w: World,
  o: {
    kind: 'create' | 'update' | 'delete';
    externalContactId: string;
    reason?: OperationReason;
    chektContactId?: string | null;
    runId?: string;
    approveDeletes?: boolean;
    site?: SiteRef;
    crmSiteId?: string;
  },
): OperationInHand {
  const site = o.site ?? SITE;
  const runId = o.runId ?? 'run-1';
  if (!w.runs.has(runId)) w.runs.set(runId, { status: 'running', crmReadAt: new Date(w.clock - 1) });
  const key = opKey(site.dealerId, site.siteId, o.externalContactId);
  w.operations.push({
    runId,
    opKey: key,
    kind: o.kind,
    dealerId: site.dealerId,
    siteId: site.siteId,
    externalContactId: o.externalContactId,
    outcome: 'queued',
    appliedKind: null,
    error: null,
    attempts: 0,
  });
  const reason: OperationReason = o.reason ?? (o.kind === 'create' ? 'missing_in_chekt' : o.kind === 'update' ? 'changed_in_crm' : 'removed_from_crm');
  return {
    runId,
    kind: o.kind,
    reason,
    dealerId: site.dealerId,
    siteId: site.siteId,
    crmSiteId: o.crmSiteId ?? 's1',
    externalContactId: o.externalContactId,
    chektContactId: o.chektContactId ?? null,
    ...(o.approveDeletes ? { approveDeletes: true } : {}),
    opKey: key,
    enqueuedAt: w.clock,
  };
}

/** The fingerprint the fake store gives a CRM row (source/changes.ts hashes the same four fields). */
export function fingerprintOf(c: CrmContact): string {
  return JSON.stringify([c.firstName, c.lastName, c.phoneNumber, c.email]);
}

/** The {@link OperationStore} over `w`. */
export function fakeStore(w: World, rules: NormalizeRules = DEFAULT_RULES): OperationStore {
  let reads = 0;
  const locks = new Map<SiteKey, Promise<unknown>>();
  const queuedOf = (runId: string, except?: string) => w.operations.filter((o) => o.runId === runId && o.outcome === 'queued' && o.opKey !== except);
  const complete = (runIds: readonly string[]) => {
    for (const id of runIds) {
      const run = w.runs.get(id);
      if (run?.status === 'running' && queuedOf(id).length === 0) run.status = 'completed';
    }
  };
  return {
    async readContext(op) {
      const contact = w.contacts.get(op.externalContactId) ?? null;
      const site = w.sites.get(op.crmSiteId);
      const ctx = {
        readAt: new Date(w.clock++),
        crm: contact,
        fingerprint: contact ? fingerprintOf(contact) : null,
        site: site ? { id: op.crmSiteId, syncEnabled: site.syncEnabled } : null,
        ledgerChektContactId: w.ledger.get(ledgerKey(op, op.externalContactId))?.chektContactId ?? null,
        deletePlanned: w.operations.some((o) => o.opKey === op.opKey && o.outcome === 'queued' && o.kind === 'delete'),
      };
      w.afterRead?.(op, ++reads);
      return ctx;
    },
    async settle(s): Promise<SettleResult> {
      if (s.ledger) writeLedger(w, s.ledger);
      const settled = w.operations.filter((o) => {
        const run = w.runs.get(o.runId);
        return o.opKey === s.opKey && o.outcome === 'queued' && (!run?.crmReadAt || run.crmReadAt <= s.readAt);
      });
      for (const o of settled) Object.assign(o, { outcome: s.outcome, appliedKind: s.appliedKind, error: s.error, attempts: s.attempts });
      const runIds = [...new Set(settled.map((o) => o.runId))];
      const openRunIds = runIds.filter((id) => queuedOf(id, s.opKey).length > 0);
      complete(runIds.filter((id) => !openRunIds.includes(id)));
      return { runIds, openRunIds, stillQueued: w.operations.some((o) => o.opKey === s.opKey && o.outcome === 'queued') };
    },
    async completeRuns(runIds) {
      complete(runIds);
    },
    async withSiteLock(site, fn) {
      const key = siteKey(site);
      const before = locks.get(key) ?? Promise.resolve();
      const run = before.then(() => fn(lockedSite(w, site, rules)));
      locks.set(
        key,
        run.catch(() => undefined),
      );
      return run;
    },
  };
}

function writeLedger(w: World, l: LedgerWrite): void {
  const key = ledgerKey(l.site, l.externalContactId);
  const row = w.ledger.get(key) ?? ledgerRow({});
  if (l.chektContactId !== undefined) row.chektContactId = l.chektContactId;
  if (l.sent !== undefined) {
    row.sentPhone = (l.sent as { phone_number?: string }).phone_number ?? null;
    row.sentHash = l.sentHash ?? null;
  }
  if (l.echoHash !== undefined) row.echoHash = l.echoHash;
  if (l.crmHash !== undefined) row.crmHash = l.crmHash;
  if (l.reachProblem !== undefined) row.reachProblem = l.reachProblem;
  if (l.settled && l.failedHash === undefined) row.failedHash = null;
  if (l.failedHash !== undefined) row.failedHash = l.failedHash;
  Object.assign(row, { lastKind: l.kind, lastOutcome: l.outcome, lastError: l.error ?? null, runId: l.runId });
  w.ledger.set(key, row);
}

function lockedSite(w: World, site: SiteRef, rules: NormalizeRules): LockedSite {
  const sameSite = (o: { dealerId: string; siteId: string }) => o.dealerId === site.dealerId && o.siteId === site.siteId;
  const managed = () => [...w.ledger].filter(([k, r]) => k.startsWith(`${siteKey(site)}\n`) && r.chektContactId !== null).map(([k, r]) => ({ ext: k.slice(k.indexOf('\n') + 1), row: r }));
  return {
    async readDeleteGate(op) {
      return {
        createsPending: w.operations.some((o) => o.outcome === 'queued' && o.kind === 'create' && o.opKey !== op.opKey && (sameSite(o) || o.externalContactId === op.externalContactId)),
        remaining: managed().filter((m) => m.ext !== op.externalContactId).length,
        held: w.holds.has(siteKey(site)),
        createFailed: w.operations.some((o) => o.runId === op.runId && o.kind === 'create' && o.outcome === 'failed' && sameSite(o)),
      };
    },
    async readSentSms(externalContactId) {
      const sms = managed().filter((m) => m.row.reachProblem === null && isSmsCapable(classifyPhone(m.row.sentPhone, rules)));
      return { others: sms.filter((m) => m.ext !== externalContactId).length, deleted: sms.some((m) => m.ext === externalContactId) };
    },
    async addHold(hold, runId) {
      w.holds.set(hold.site, { ...hold, runId });
    },
    async writeLedger(write) {
      writeLedger(w, write);
    },
  };
}

/** A CHeKT over `w.chekt` for one attempt: writes first await `scope.beforeWrite`, every call reaches `scope.onCall`. */
export function fakeChekt(w: World): (scope: CallScope) => ChektContactsApi {
  let traces = 0;
  return (scope) => {
    const call = async <T>(method: FakeCall['method'], site: SiteRef, answer: () => T, extra: Omit<FakeCall, 'method' | 'site'> = {}): Promise<T> => {
      if (method !== 'GET') await scope.beforeWrite();
      w.calls.push({ method, site: siteKey(site), ...extra });
      scope.onCall({ endpoint: `${method} contacts`, status: 200, traceId: `trace-${++traces}`, durationMs: 1 });
      const failure = w.failNext.get(method)?.shift();
      if (failure) throw failure;
      return answer();
    };
    const list = (site: SiteRef) => w.chekt.get(siteKey(site)) ?? [];
    const find = (site: SiteRef, contactId: string) => {
      const c = list(site).find((x) => x.contactId === contactId);
      if (!c) throw new ChektNotFoundError({ endpoint: 'contacts/{id}', status: 404 });
      return c;
    };
    return {
      listContacts: (site) => call('GET', site, () => [...list(site)]),
      getContact: (site, contactId) => call('GET', site, () => find(site, contactId), { contactId }),
      createContact: (site, body: CreateContactBody) =>
        call(
          'POST',
          site,
          () => {
            if (list(site).some((c) => c.externalContactId === body.external_contact_id)) throw new ChektConflictError({ endpoint: 'POST contacts', status: 409 });
            const stored: ChektContact = {
              contactId: String(5000 + w.calls.length),
              externalContactId: body.external_contact_id,
              firstName: body.first_name,
              lastName: body.last_name,
              phoneNumber: body.phone_number === undefined ? null : w.storePhone(body.phone_number),
              email: body.email ?? null,
              createdAt: null,
            };
            w.chekt.set(siteKey(site), [...list(site), stored]);
            return stored;
          },
          { body },
        ),
      updateContact: (site, contactId, body: UpdateContactBody) =>
        call(
          'PUT',
          site,
          () => {
            const c = find(site, contactId);
            const next: ChektContact = {
              ...c,
              ...(body.first_name !== undefined ? { firstName: body.first_name } : {}),
              ...(body.last_name !== undefined ? { lastName: body.last_name } : {}),
              ...(body.phone_number !== undefined ? { phoneNumber: body.phone_number === '' ? null : w.storePhone(body.phone_number) } : {}),
              ...(body.email !== undefined ? { email: body.email === '' ? null : body.email } : {}),
            };
            w.chekt.set(
              siteKey(site),
              list(site).map((x) => (x.contactId === contactId ? next : x)),
            );
            return next;
          },
          { contactId, body },
        ),
      deleteContact: (site, contactId) =>
        call(
          'DELETE',
          site,
          () => {
            find(site, contactId);
            w.chekt.set(
              siteKey(site),
              list(site).filter((x) => x.contactId !== contactId),
            );
          },
          { contactId },
        ),
    };
  };
}

/** A log that keeps each line's object and message, for assertions. */
export function captureLog(): { lines: Array<Record<string, unknown>>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('debug', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { lines, logger };
}

/** Lifecycle deps over the fakes: no inner backoff wait, SITE_MIN_CONTACTS 1 and SITE_MIN_SMS_CONTACTS 1. */
export function fakeDeps(w: World, extra: Partial<LifecycleDeps> = {}): LifecycleDeps & { lines: Array<Record<string, unknown>> } {
  const { lines, logger } = captureLog();
  return {
    store: fakeStore(w),
    chekt: fakeChekt(w),
    rules: DEFAULT_RULES,
    now: () => new Date(w.clock),
    siteMinContacts: 1,
    siteMinSmsContacts: 1,
    logger,
    innerMinTimeoutMs: 1,
    lines,
    ...extra,
  };
}

/** The first attempt at `op`, fenced by `holdsJob` when given. */
export function attemptOf(op: OperationInHand, fields: Partial<Omit<Attempt, 'operation'>> = {}): Attempt {
  return { operation: op, attempt: 1, earlierTry: false, ...fields };
}
