import type { NormalizeRules } from '../domain/contact.js';
import { siteKey, type SiteRef } from '../domain/site.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { LockedSite, OperationStore } from '../sync/ports/operations.js';
import type { CrmSource } from './crm/database.js';
import { viaPrisma, type PrismaClient, type RunSql } from './db.js';
import { addHold } from './holds.js';
import { writeLedger } from './ledger.js';
import { readDeleteGate, readOperationContext } from './operationContext.js';
import { readSentSmsForDelete } from './reach.js';
import { completeRunsIfDone, finishOperation } from './runs.js';

/** Options of {@link createOperationStore}. */
export interface OperationStoreOptions {
  readonly db: PrismaClient;
  /**
   * Runs the two statements every operation makes (reading its context, settling it); source/db.ts
   * `Database.sql` skips Prisma's client for them. Default: through `db`.
   */
  readonly sql?: RunSql;
  /** The CRM connection the operation's rows are read from again (source/crm/database.ts). */
  readonly crm: CrmSource;
  /** The phone and name rules the fingerprint and the SMS count use (config). */
  readonly rules: NormalizeRules;
}

/**
 * The worker's {@link OperationStore} over PostgreSQL. The site lock of a delete is a transaction holding a
 * PostgreSQL advisory lock on the CHeKT site (transaction-scoped, so a crash releases it): deletes of one site run
 * one at a time, across every worker process. It waits up to 60 s for the lock; the transaction may last 5
 * minutes (the CHeKT call inside waits out 429s).
 */
export function createOperationStore(options: OperationStoreOptions): OperationStore {
  const { db, rules } = options;
  const sql = options.sql ?? viaPrisma(db);
  return {
    readContext: (op) => readOperationContext(options.crm, sql, op, rules),
    settle: (settlement) => finishOperation(sql, settlement),
    completeRuns: (runIds, now) => completeRunsIfDone(db, runIds, now),
    withSiteLock: (site, fn) =>
      db.$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtextextended(${`chekt-site-delete/${siteKey(site)}`}, 0))`;
          return fn(lockedSite(tx, site, rules));
        },
        { maxWait: 60_000, timeout: 300_000 },
      ),
  };
}

/** The reads and writes of a delete inside its site's lock transaction `tx`. */
function lockedSite(tx: Prisma.TransactionClient, site: SiteRef, rules: NormalizeRules): LockedSite {
  return {
    readDeleteGate: (op) => readDeleteGate(tx, op),
    readSentSms: (externalContactId) => readSentSmsForDelete(tx, site, externalContactId, rules),
    addHold: (hold, runId, now) => addHold(tx, hold, runId, now),
    writeLedger: (write) => writeLedger(tx, write),
  };
}
