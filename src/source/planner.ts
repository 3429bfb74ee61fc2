import type { PlannerStore } from '../sync/ports/planner.js';
import { countManaged, readChangedContacts, readFingerprints, readRemovedContacts, readSiteCounts, readUnseenSites } from './changes.js';
import { findKnownContactIds, readLiveContacts, selectSites, selectSitesById } from './crm.js';
import { dbNow, type PrismaClient } from './db.js';
import { readHolds, saveHolds } from './holds.js';
import { findUnmappedLedgerSites, markPending, readLedger, settleContacts, writeLedger } from './ledger.js';
import { countSmsCapableSent, readSentReach, readSiteReach } from './reach.js';
import { createRun, failRun, listStaleRuns, recordEnqueued, recordPlan } from './runs.js';

/**
 * The planner's stores (sync/ports/planner.ts) over PostgreSQL: the plain functions of this folder, each taking
 * `db` first, bound to one client. Errors are the functions' own (Prisma/pg errors).
 */
export function createPlannerStore(db: PrismaClient): PlannerStore {
  return {
    crm: {
      clock: () => dbNow(db),
      selectSites: (refs) => selectSites(db, refs),
      selectSitesById: (ids) => selectSitesById(db, ids),
      readLiveContacts: (ids) => readLiveContacts(db, ids),
      findKnownContactIds: (ids, crmSiteId) => findKnownContactIds(db, ids, crmSiteId),
      readFingerprints: (ids, rules) => readFingerprints(db, ids, rules),
    },
    changes: {
      readChangedContacts: (scope) => readChangedContacts(db, scope),
      readRemovedContacts: (scope) => readRemovedContacts(db, scope),
      readUnseenSites: (ids) => readUnseenSites(db, ids),
      readSiteCounts: (ids, windowSeconds) => readSiteCounts(db, ids, windowSeconds),
      countManaged: (ids) => countManaged(db, ids),
    },
    ledger: {
      read: (sites) => readLedger(db, sites),
      adopt: (a) => writeLedger(db, { ...a, kind: 'adopt', outcome: 'succeeded' }),
      settle: (settled, runId, now) => settleContacts(db, settled, runId, now),
      markPending: (ops, now) => markPending(db, ops, now),
      findUnmappedSites: () => findUnmappedLedgerSites(db),
    },
    holds: {
      read: () => readHolds(db),
      save: (holds, scope, runId, now, keep) => saveHolds(db, holds, scope, runId, now, keep),
    },
    runs: {
      create: (run) => createRun(db, run),
      fail: (runId, error, now) => failRun(db, runId, error, now),
      recordPlan: (run) => recordPlan(db, run),
      recordEnqueued: (runId, summary) => recordEnqueued(db, runId, summary),
      listStale: (olderThanMs, now) => listStaleRuns(db, olderThanMs, now),
    },
    reach: {
      readSiteReach: (rules, ids, options) => readSiteReach(db, rules, ids, options),
      readSentReach: (rules, ids) => readSentReach(db, rules, ids),
      countSmsCapableSent: (rules, contacts) => countSmsCapableSent(db, rules, contacts),
    },
  };
}
