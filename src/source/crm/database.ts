import { createPool } from '../pgConnection.js';
import { statementNames } from '../statementNames.js';
import { contractProblems, inspectCrm, shapeOf, type CrmInspection, type CrmShape, type Queryable } from './inspect.js';
import type { CrmRelations } from './sql.js';

/**
 * The connection to the partner's CRM (config `CRM_DATABASE_URL`, default `DATABASE_URL`; docs/CRM.md): a pool of
 * its own that only reads. Every read of the contract relations goes through here, so the service's own tables
 * may live in another database (`DATABASE_URL`) or another schema of the same one (`DATABASE_SCHEMA`). Nothing here
 * writes, locks or creates anything in the CRM database: plain `SELECT`s, catalog reads, `READ ONLY` transactions.
 */

/** The contract is broken: a relation, a column or a privilege is missing, or a column's type is unusable. */
export class CrmContractError extends Error {
  override readonly name = 'CrmContractError';
  constructor(readonly problems: readonly string[]) {
    super(`the CRM source contract does not hold (docs/CRM.md#the-contract): ${problems.join('; ')}`);
  }
}

/** A read inside one consistent snapshot of the CRM ({@link CrmSource.snapshot}). */
export interface CrmSnapshot extends Queryable {
  /** The optional columns each relation has (inspected at the snapshot's start). */
  readonly shape: CrmShape;
  /**
   * Runs `text` through a server-side cursor, `batchRows` rows at a time, so a large read stays small in memory;
   * `onRows` gets each batch in order. Only inside the snapshot's transaction.
   */
  cursor<R extends Record<string, unknown>>(text: string, values: unknown[], batchRows: number, onRows: (rows: R[]) => void | Promise<void>): Promise<void>;
}

/** Options of {@link createCrmSource}. */
export interface CrmSourceOptions {
  readonly databaseUrl: string;
  readonly relations: CrmRelations;
  /** Connections in the pool. Default 4. */
  readonly poolSize?: number;
  /** Longest wait for a connection, in ms. Default 10,000. */
  readonly connectionTimeoutMs?: number;
  /** PostgreSQL `statement_timeout` of every CRM session, in ms (0 = none, the default). */
  readonly statementTimeoutMs?: number;
  /**
   * Prepare the statements {@link CrmSource.query} repeats once per connection (../statementNames.ts; config
   * `DB_PREPARED_STATEMENTS`): the worker's read of an operation's rows is one per operation, and parsing and
   * planning it was most of its PostgreSQL time. Every column is read `::text`, so a view replaced under a
   * prepared statement cannot change its result type; a statement that fails discards its connection (pg-pool).
   * Default false.
   */
  readonly preparedStatements?: boolean;
}

/** The CRM's pool and its relations. */
export interface CrmSource {
  readonly relations: CrmRelations;
  /** One statement on the pool (outside a snapshot). */
  readonly query: Queryable['query'];
  /** What the role sees of the relations (catalog reads; ./inspect.ts). */
  inspect(): Promise<CrmInspection>;
  /**
   * The optional columns each relation has, inspected once and again after {@link invalidateShape}.
   * @throws {CrmContractError} when the contract does not hold.
   */
  shape(): Promise<CrmShape>;
  /** Forgets the shape (a read failed on a column: the view may have changed). */
  invalidateShape(): void;
  /**
   * Runs `fn` in one `REPEATABLE READ READ ONLY` transaction: every read inside sees the same snapshot of the
   * CRM. The shape is inspected inside it first.
   * @throws {CrmContractError} when the contract does not hold; the node-postgres error of a failed read.
   */
  snapshot<T>(fn: (snap: CrmSnapshot) => Promise<T>): Promise<T>;
  /** The CRM database's clock (`clock_timestamp()`). */
  clock(): Promise<Date>;
  close(): Promise<void>;
}

/** The built-in tables, `sites` and `contacts` on the connection's search_path: the contract's default relations. */
export const DEFAULT_RELATIONS: CrmRelations = {
  sites: { schema: null, name: 'sites', sql: '"sites"', display: 'sites' },
  contacts: { schema: null, name: 'contacts', sql: '"contacts"', display: 'contacts' },
};

/** Throws {@link CrmContractError} when `inspection` has fatal problems; returns its shape. */
export function requireContract(inspection: CrmInspection): CrmShape {
  const fatal = contractProblems(inspection).filter((p) => p.severity === 'fatal');
  if (fatal.length > 0) throw new CrmContractError(fatal.map((p) => p.reason));
  return shapeOf(inspection);
}

/**
 * A statement on the CRM failed in the database (a view that divides by zero, a cast that fails, a timeout):
 * the message names the two relations, and `code` keeps PostgreSQL's SQLSTATE.
 */
export class CrmReadError extends Error {
  override readonly name = 'CrmReadError';
  constructor(
    message: string,
    readonly code: string,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** SQLSTATE classes left as they are: connection (08), shutdown (57P), authentication (28), no such database (3D). */
const CONNECTION_CLASSES = /^(08|57P|28|3D)/;

/**
 * A PostgreSQL error message with quoted values elided (`invalid input syntax for type integer: "Ann"` →
 * `…: "…"`): a failing view's message can quote a row's value, a name or a phone. Quoted names of relations,
 * columns, types and functions stay: they say what to fix.
 */
export function withoutValues(message: string): string {
  return message.replace(/(?<!\b(?:relation|column|function|type|schema|table|view|operator|role|database|constraint|index) )"(?:[^"]|"")*"/g, '"…"');
}

/** `err` as a {@link CrmReadError} when PostgreSQL refused a statement (a SQLSTATE outside the connection classes). */
function readError(err: unknown, relations: CrmRelations): unknown {
  const code = (err as { code?: unknown }).code;
  if (err instanceof CrmReadError || typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || CONNECTION_CLASSES.test(code)) return err;
  return new CrmReadError(`reading the CRM (${relations.sites.display}, ${relations.contacts.display}) failed: ${withoutValues((err as Error).message)} (SQLSTATE ${code})`, code, { cause: err });
}

/** SQLSTATEs after which the relations are inspected again: undefined column, undefined table. */
const SHAPE_ERRORS = new Set(['42703', '42P01']);

/** Opens the CRM pool (lazily: nothing connects until the first read). */
export function createCrmSource(options: CrmSourceOptions): CrmSource {
  const pool = createPool({
    databaseUrl: options.databaseUrl,
    max: options.poolSize ?? 4,
    connectionTimeoutMs: options.connectionTimeoutMs,
    statementTimeoutMs: options.statementTimeoutMs,
  });
  let cached: Promise<CrmShape> | null = null;
  const relations = options.relations;
  const name = options.preparedStatements ? statementNames() : () => '';
  const query: Queryable['query'] = async (text, values) => {
    try {
      return await pool.query({ name: name({ sql: text }), text, ...(values ? { values } : {}) });
    } catch (err) {
      if (SHAPE_ERRORS.has((err as { code?: string }).code ?? '')) cached = null;
      throw readError(err, relations);
    }
  };
  const source: CrmSource = {
    relations,
    query,
    inspect: () => inspectCrm(pool, relations),
    shape() {
      const current = cached ?? (cached = inspectCrm(pool, relations).then(requireContract));
      current.catch(() => {
        if (cached === current) cached = null;
      });
      return current;
    },
    invalidateShape() {
      cached = null;
    },
    async snapshot(fn) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const shape = requireContract(await inspectCrm(client, relations));
        cached = Promise.resolve(shape);
        let cursors = 0;
        const snap: CrmSnapshot = {
          shape,
          query: (text, values) => client.query(text, values),
          async cursor(text, values, batchRows, onRows) {
            const name = `chekt_sync_${++cursors}`;
            await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${text}`, values);
            for (;;) {
              const { rows } = await client.query(`FETCH ${batchRows} FROM ${name}`);
              if (rows.length > 0) await onRows(rows as never);
              if (rows.length < batchRows) break;
            }
            await client.query(`CLOSE ${name}`);
          },
        };
        const result = await fn(snap);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        if (SHAPE_ERRORS.has((err as { code?: string }).code ?? '')) cached = null;
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw readError(err, relations);
      } finally {
        client.release(broken);
      }
    },
    async clock() {
      const { rows } = await query<{ now: Date }>('SELECT clock_timestamp() AS now');
      return rows[0]!.now;
    },
    close: () => pool.end(),
  };
  return source;
}
