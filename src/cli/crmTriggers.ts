import { parseArgs } from 'node:util';
import { usageError } from './commandLine.js';
import pg from 'pg';
import { connectionConfig } from '../source/pgConnection.js';
import { ConfigError, loadCrmAdminUrl, loadEnvFile } from '../config.js';
import { describeDatabaseError, redact } from '../preflight.js';
import { applyTriggers, TriggerApplyError, type AppliedTriggers } from '../source/crm/applyTriggers.js';
import { parseRelationName, type RelationName } from '../source/crm/relations.js';
import { planTriggers, renderTriggerScript, type TriggerPlan } from '../source/crm/triggers.js';
import { CHANNEL } from '../sync/notifications.js';

/**
 * `npm run crm:triggers -- --table <schema.table>... [--schema <s>] [--apply [--admin-url <url>]]`: the opt-in
 * NOTIFY triggers on the CRM's base tables (docs/CRM.md#notify-triggers-opt-in). Prints the SQL for a DBA, or runs
 * it. Exit codes: 0 printed or applied; 1 PostgreSQL refused a step (nothing applied: one transaction); 2 bad
 * usage, a bad name, no admin URL, or a server that cannot be reached.
 */

const USAGE = `Usage: npm run crm:triggers -- --table <schema.table> [--table ...] [options]

Prints the SQL a CRM DBA runs to add NOTIFY triggers to the base tables behind the contract views
(CRM_SITES_SOURCE, CRM_CONTACTS_SOURCE): each statement that changes one of them makes the service
run a change tick within seconds instead of at the next SYNC_INTERVAL_SECONDS. Safe to run again.

Options:
  --table <[schema.]table>  a base table (repeatable; at least one); quote mixed case: '"Sales"."People"'
  --schema <schema>         schema of the trigger function (default: the first table's, else public)
  --apply                   run the SQL instead of printing it, as one transaction
  --admin-url <url>         connection for --apply (default CRM_ADMIN_DATABASE_URL): the tables' owner
  -h, --help                show this help

Exit codes: 0 done, 1 PostgreSQL refused a step (nothing was applied), 2 bad usage or configuration.`;

/** How long PostgreSQL may take to accept the connection, in ms. */
const CONNECT_TIMEOUT_MS = 10_000;

async function main(): Promise<number> {
  let args;
  let plan: TriggerPlan;
  try {
    args = parseArgs({
      options: {
        table: { type: 'string', multiple: true },
        schema: { type: 'string' },
        apply: { type: 'boolean', default: false },
        'admin-url': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
      strict: true,
    }).values;
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    const tables = (args.table ?? []).map((t) => relation('--table', t));
    if (tables.length === 0) throw new Error('--table is required: name the base tables behind the contract views');
    let schema: string | undefined;
    if (args.schema !== undefined) {
      const s = relation('--schema', args.schema);
      if (s.schema !== null) throw new Error(`--schema "${args.schema}": a schema is one name, not two`);
      schema = s.name;
    }
    if (args['admin-url'] !== undefined && !args.apply) throw new Error('--admin-url is used with --apply only');
    plan = planTriggers(tables, schema);
  } catch (err) {
    return usageError(err, USAGE);
  }
  if (!args.apply) {
    process.stdout.write(renderTriggerScript(plan));
    return 0;
  }
  let url: string | undefined;
  try {
    loadEnvFile();
    url = loadCrmAdminUrl(process.env, args['admin-url']);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 2;
  }
  if (url === undefined) {
    console.error('--apply needs an admin connection: --admin-url <url> or CRM_ADMIN_DATABASE_URL (a role that owns the tables)');
    return 2;
  }
  return apply(url, plan);
}

/** `raw` parsed as `[schema.]name` (source/crm/relations.ts). @throws {Error} naming `flag` and the problem. */
function relation(flag: string, raw: string): RelationName {
  const r = parseRelationName(raw);
  if (typeof r === 'string') throw new Error(`${flag} "${raw}": ${r}`);
  return r;
}

async function apply(url: string, plan: TriggerPlan): Promise<number> {
  const client = new pg.Client({ ...connectionConfig(url), connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'chekt-contact-sync crm:triggers' });
  // An error event after connect (the server going away) must not crash the process: the query in flight fails.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    console.error(`cannot connect to ${redact(url)}: ${describeConnectError(err)}`);
    return 2;
  }
  try {
    console.log(formatApplied(await applyTriggers(client, plan), url));
    return 0;
  } catch (err) {
    const reason = err instanceof TriggerApplyError ? err.message : describeDatabaseError(err);
    console.error(`crm:triggers --apply on ${redact(url)} failed, nothing was applied: ${reason}`);
    return 1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** describeDatabaseError's wording, without its hint at `DATABASE_URL`, which this command does not read. */
function describeConnectError(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === '28P01' || code === '28000') return `${(err as Error).message}; check the user and password in the URL`;
  if (code === '3D000') return (err as Error).message;
  return describeDatabaseError(err);
}

function formatApplied(done: AppliedTriggers, url: string): string {
  return [
    `Applied on ${redact(url)} as role ${JSON.stringify(done.role)} (database ${JSON.stringify(done.database)}), one transaction:`,
    `  function ${done.function}: created or replaced`,
    ...done.triggers.map((t) => `  trigger on ${t.table}: ${t.replaced ? 'replaced' : 'created'}`),
    `Each statement changing these tables now notifies channel ${CHANNEL} at commit.`,
  ].join('\n');
}

process.exitCode = await main();
