import pg from 'pg';
import { CHANNEL, UNKNOWN_SITE } from '../../sync/notifications.js';
import { parseRelationName, type RelationName } from './relations.js';

/**
 * The opt-in NOTIFY triggers a CRM's DBA adds to the base tables behind the contract views
 * (docs/CRM.md#notify-triggers-opt-in), as SQL. Pure: `npm run crm:triggers` prints it, or applies its steps
 * (applyTriggers.ts). Views cannot carry the triggers (a view changes when its tables do), so they go on the
 * tables; they are statement-level, because a row of a base table does not say which CHeKT site it feeds: one
 * notification per statement, payload `*<schema>.<table>` (`UNKNOWN_SITE` of sync/notifications.ts), on which the
 * service runs a change tick. PostgreSQL folds identical notifications of one transaction into one, so a bulk load sends one per
 * table.
 */

/** The trigger function's name, in the chosen schema, and the name of the trigger on each table. */
export const NOTIFY_FUNCTION = 'chekt_contact_sync_notify';
export const TRIGGER_NAME = 'chekt_contact_sync_notify';

/**
 * One statement of the script. `function` creates or replaces the trigger function; `drop-trigger` and
 * `create-trigger` act on `table`.
 */
export type TriggerStep =
  | { readonly kind: 'function'; readonly schema: string; readonly fn: string; readonly sql: string }
  | { readonly kind: 'drop-trigger' | 'create-trigger'; readonly table: RelationName; readonly sql: string };

/** What {@link planTriggers} returns: the steps in order (run them in one transaction) and the removal steps. */
export interface TriggerPlan {
  /** The trigger function's schema and name, for messages: `cs`, `cs.chekt_contact_sync_notify`. */
  readonly schema: string;
  readonly fn: string;
  /** The tables, each once, in the order given. */
  readonly tables: readonly RelationName[];
  readonly steps: readonly TriggerStep[];
  /** Statements that undo the steps: each trigger dropped, then the function. */
  readonly removal: readonly string[];
}

/**
 * The steps that put the trigger on every table of `tables`: `CREATE OR REPLACE FUNCTION <schema>.chekt_contact_sync_notify()`,
 * then per table `DROP TRIGGER IF EXISTS` and `CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ...
 * FOR EACH STATEMENT`, so running them again changes nothing. Every name is quoted as an identifier.
 * @param schema the trigger function's schema (its value, unquoted); default the first table's schema, or `public`
 *   when it has none.
 * @throws {Error} when `tables` is empty.
 */
export function planTriggers(tables: readonly RelationName[], schema?: string): TriggerPlan {
  const unique = dedupe(tables);
  const first = unique[0];
  if (!first) throw new Error('no table given: name at least one base table behind the contract views');
  const functionSchema = schema ?? first.schema ?? 'public';
  const named = asRelation(functionSchema, NOTIFY_FUNCTION);
  const schemaShown = shownIdentifier(functionSchema);
  const fn = named.sql;
  const trigger = pg.escapeIdentifier(TRIGGER_NAME);
  const payload = `${pg.escapeLiteral(UNKNOWN_SITE)} || TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME`;
  const steps: TriggerStep[] = [
    {
      kind: 'function',
      schema: schemaShown,
      fn: named.display,
      sql: [
        `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$`,
        'BEGIN',
        `  PERFORM pg_catalog.pg_notify(${pg.escapeLiteral(CHANNEL)}, ${payload});`,
        '  RETURN NULL;',
        'END',
        '$$;',
      ].join('\n'),
    },
  ];
  for (const table of unique) {
    const on = table.sql;
    steps.push({ kind: 'drop-trigger', table, sql: `DROP TRIGGER IF EXISTS ${trigger} ON ${on};` });
    steps.push({
      kind: 'create-trigger',
      table,
      sql: `CREATE TRIGGER ${trigger} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${on}\n  FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();`,
    });
  }
  const removal = [...unique.map((t) => `DROP TRIGGER IF EXISTS ${trigger} ON ${t.sql};`), `DROP FUNCTION IF EXISTS ${fn}();`];
  return { schema: schemaShown, fn: named.display, tables: unique, steps, removal };
}

/**
 * The script a DBA runs (`psql -v ON_ERROR_STOP=1 -f`): a header saying what it does and which privileges it
 * needs, the steps inside `BEGIN`/`COMMIT`, and the removal steps commented out under `-- to remove:`.
 */
export function renderTriggerScript(plan: TriggerPlan): string {
  const names = plan.tables.map((t) => t.display).join(', ');
  return [
    '-- chekt-contact-sync: NOTIFY triggers on the CRM tables behind the contract views (docs/CRM.md#notify-triggers-opt-in).',
    `-- Every statement that changes rows of ${names}`,
    `-- sends, at commit, one notification on channel ${CHANNEL} with payload '${UNKNOWN_SITE}<schema>.<table>'; the service then runs a change tick.`,
    `-- Run it as the tables' owner: CREATE TRIGGER needs the TRIGGER privilege on each table, DROP TRIGGER (running it`,
    `-- again) ownership of the table, and the function CREATE on schema ${plan.schema}. Safe to run again.`,
    'BEGIN;',
    '',
    ...plan.steps.flatMap((s, i) => (s.kind === 'drop-trigger' && i > 0 ? ['', s.sql] : [s.sql])),
    '',
    'COMMIT;',
    '',
    '-- to remove:',
    '-- BEGIN;',
    ...plan.removal.map((sql) => `-- ${sql}`),
    '-- COMMIT;',
    '',
  ].join('\n');
}

/**
 * `schema.name` given as values (unquoted), with the `sql` and `display` forms of {@link RelationName}: the parts
 * quoted, then parsed back.
 */
function asRelation(schema: string, name: string): RelationName {
  return parseRelationName(`${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`) as RelationName;
}

/** An identifier's value as messages show it: bare when PostgreSQL reads it so (`cs`), else quoted (`"Sales"`). */
export function shownIdentifier(value: string): string {
  return (parseRelationName(pg.escapeIdentifier(value)) as RelationName).display;
}

function dedupe(tables: readonly RelationName[]): RelationName[] {
  const seen = new Set<string>();
  return tables.filter((t) => {
    if (seen.has(t.sql)) return false;
    seen.add(t.sql);
    return true;
  });
}
