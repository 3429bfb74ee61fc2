import type { PlannerStore } from '../sync/ports/planner.js';
import { countManaged, readChanges, readSiteCounts, readUnseenSites } from './changes.js';
import { findKnownContactIds, readSiteContacts, selectSites, selectSitesById } from './crm.js';
import type { CrmSource } from './crm/database.js';
import type { PrismaClient, RunSql } from './db.js';
import { readHolds, saveHolds } from './holds.js';
import { findUnmappedLedgerSites, markPending, readLedger, settleContacts, writeLedger } from './ledger.js';
import { countSmsCapableSent, readSentReach, readSiteReach } from './reach.js';
import { createRun, failRun, listStaleRuns, recordEnqueued, recordPlan } from './runs.js';

/** The connections the planner's stores use: the service's own database, and the CRM's. */
export interface PlannerConnections {
  /** Prisma's client of `DATABASE_URL`. */
  readonly db: PrismaClient;
  /** Statements on the same pool through node-postgres (source/db.ts `Database.sql`). */
  readonly sql: RunSql;
  /** The CRM connection (`CRM_DATABASE_URL`, source/crm/database.ts). */
  readonly crm: CrmSource;
}

/**
 * The planner's stores (sync/ports/planner.ts) over PostgreSQL: the plain functions of this folder, each taking
 * its connections first. Errors are the functions' own (Prisma/pg errors, `CrmContractError`).
 */
export function createPlannerStore({ db, sql, crm }: PlannerConnections): PlannerStore {
  return {
    crm: {
      clock: () => crm.clock(),
      selectSites: (refs) => selectSites(crm, refs),
      selectSitesById: (ids) => selectSitesById(crm, ids),
      readSiteContacts: (sites, rules) => readSiteContacts(crm, sites, rules),
      findKnownContactIds: (ids, crmSiteId) => findKnownContactIds(crm, ids, crmSiteId),
    },
    changes: {
      readChanges: (scope) => readChanges(crm, sql, scope),
      readUnseenSites: (ids) => readUnseenSites(crm, sql, ids),
      readSiteCounts: (ids, windowSeconds) => readSiteCounts(crm, sql, ids, windowSeconds),
      countManaged: (ids) => countManaged(crm, sql, ids),
    },
    ledger: {
      read: (sites) => readLedger(db, sites),
      adopt: (a) => writeLedger(db, { ...a, kind: 'adopt', outcome: 'succeeded' }),
      settle: (settled, runId, now) => settleContacts(db, settled, runId, now),
      markPending: (ops, now) => markPending(db, ops, now),
      findUnmappedSites: () => findUnmappedLedgerSites(crm, sql),
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
      readSiteReach: (rules, ids, options) => readSiteReach({ crm, sql }, rules, ids, options),
      readSentReach: (rules, ids) => readSentReach({ crm, sql }, rules, ids),
      countSmsCapableSent: (rules, contacts) => countSmsCapableSent(db, rules, contacts),
    },
  };
}
