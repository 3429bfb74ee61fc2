import DataLoader from 'dataloader';
import type { NormalizeRules } from '../domain/contact.js';
import { siteKey, type SiteRef } from '../domain/site.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { LockedSite, OperationContext, OperationStore } from '../sync/ports/operations.js';
import type { CrmSource } from './crm/database.js';
import { viaPrisma, type PrismaClient, type RunSql } from './db.js';
import { addHold } from './holds.js';
import { writeLedger } from './ledger.js';
import { readDeleteGate, readOperationContexts, type OperationKey } from './operationContext.js';
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
  const contexts = contextReader((ops) => readOperationContexts(options.crm, sql, ops, rules));
  return {
    readContext: (op) => contexts.load(op),
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

/** Most operations whose contexts are read in one pair of statements. */
export const CONTEXT_BATCH_MAX = 64;

/**
 * Gathers the context reads of the operations that start in one turn of the event loop into one pair of
 * statements (dataloader, flushed by `setImmediate`, no cache: every read goes to the databases). An idle worker
 * reads alone, at once; a busy one reads several operations per round trip: about two per statement in the
 * unthrottled drain at concurrency 8 (docs/BENCHMARKS.md "The HTTP transport, the CRM's prepared statements and
 * reads gathered per turn"). When a gathered read fails,
 * each operation is read again alone, so one key whose row the CRM cannot produce (a view that divides by zero
 * on it) fails only its own operation.
 */
function contextReader(readMany: (ops: readonly OperationKey[]) => Promise<OperationContext[]>): DataLoader<OperationKey, OperationContext> {
  return new DataLoader<OperationKey, OperationContext>(
    async (ops) => {
      try {
        return await readMany(ops);
      } catch (err) {
        if (ops.length === 1) return [err instanceof Error ? err : new Error(String(err))];
        return Promise.all(
          ops.map((op) =>
            readMany([op]).then(
              (r) => r[0]!,
              (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
            ),
          ),
        );
      }
    },
    { cache: false, maxBatchSize: CONTEXT_BATCH_MAX, batchScheduleFn: (flush) => setImmediate(flush) },
  );
}
