import pg from 'pg';
import { shownIdentifier, TRIGGER_NAME, type TriggerPlan, type TriggerStep } from './triggers.js';

/**
 * Applies a {@link TriggerPlan} (`npm run crm:triggers -- --apply`) over an admin connection to the CRM database,
 * in one transaction: all triggers or none.
 */

/** What {@link applyTriggers} did. `replaced`: the table had the trigger already (it was dropped and created again). */
export interface AppliedTriggers {
  readonly role: string;
  readonly database: string;
  readonly function: string;
  readonly triggers: ReadonlyArray<{ readonly table: string; readonly replaced: boolean }>;
}

/** A step PostgreSQL refused; the message names the table (or schema), the role and what it lacks. */
export class TriggerApplyError extends Error {
  override readonly name = 'TriggerApplyError';
}

/**
 * Runs `plan`'s steps between `BEGIN` and `COMMIT` on `client` (connected; left open), rolling back on the first
 * error.
 * @throws {TriggerApplyError} when a step fails, with SQLSTATE 42501 (insufficient privilege), 42P01 (no such
 *   table), 3F000 (no such schema) and 42809 (a view, not a table) said in words; other errors as the driver throws
 *   them when the connection itself fails.
 */
export async function applyTriggers(client: pg.ClientBase, plan: TriggerPlan): Promise<AppliedTriggers> {
  const who = await client.query<{ role: string; database: string }>('SELECT current_user AS role, current_database() AS database');
  const { role, database } = who.rows[0]!;
  const triggers: Array<{ table: string; replaced: boolean }> = [];
  await client.query('BEGIN');
  try {
    for (const step of plan.steps) {
      try {
        if (step.kind === 'drop-trigger') triggers.push({ table: step.table.display, replaced: await hasTrigger(client, step) });
        await client.query(step.sql);
      } catch (err) {
        throw new TriggerApplyError(describeStepError(step, role, err), { cause: err });
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return { role, database, function: `${plan.fn}()`, triggers };
}

async function hasTrigger(client: pg.ClientBase, step: Extract<TriggerStep, { table: unknown }>): Promise<boolean> {
  const r = await client.query('SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2', [step.table.sql, TRIGGER_NAME]);
  return (r.rowCount ?? 0) > 0;
}

/** The message for a failed step: where, what PostgreSQL said, and what to do about it. */
export function describeStepError(step: TriggerStep, role: string, err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  const table = step.kind === 'function' ? undefined : step.table.display;
  const schema = step.kind === 'function' ? step.schema : step.table.schema === null ? undefined : shownIdentifier(step.table.schema);
  const where = step.kind === 'function' ? `function ${step.fn}()` : `table ${table}`;
  const r = pg.escapeIdentifier(role);
  const said = `(${message})`;
  switch (e.code) {
    case '42501': {
      const lacks = `${where}: insufficient privilege: role ${r}`;
      if (/permission denied for schema/.test(message)) return `${lacks} needs ${table === undefined ? 'USAGE and CREATE' : 'USAGE'} on schema ${schema ?? '(its schema)'} ${said}`;
      if (/must be owner/.test(message)) {
        return table === undefined
          ? `${lacks} does not own the function, which exists already: run this as its owner ${said}`
          : `${lacks} does not own the table, and replacing the trigger that exists already (DROP TRIGGER) needs its owner: run this as the owner ${said}`;
      }
      if (table === undefined) return `${lacks} may not create the function ${said}`;
      return `${lacks} lacks the TRIGGER privilege on ${table} (GRANT TRIGGER ON ${table} TO ${r}, or run this as the table owner) ${said}`;
    }
    case '25006':
      return `${where}: role ${r} is read-only (default_transaction_read_only: the service's CRM role?); run this as the tables' owner ${said}`;
    case '42P01':
      return `${where}: undefined table: ${table ?? 'a table'} does not exist${schema === undefined ? ' on the search_path' : ''} ${said}`;
    case '3F000':
      return `${where}: schema ${schema ?? '(none)'} does not exist ${said}`;
    case '42809':
      return `${where}: not a table ${said}; put the triggers on the tables behind a view`;
    default:
      return `${where}: ${message}${e.code ? ` (SQLSTATE ${e.code})` : ''}`;
  }
}
