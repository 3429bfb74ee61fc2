import { parseArgs } from 'node:util';
import { readCommandLine } from './commandLine.js';
import { ConfigError, loadBehindSeconds, loadEnvFile, loadPhoneRules, loadStoreConfig, type StoreConfig } from '../config.js';
import { checkStateDatabase, describeDatabaseError, redact } from '../preflight.js';
import { openConnections } from '../source/connections.js';
import { assessHealth, siteHealthFacts, type Health } from '../domain/health.js';
import { readStatusReport } from '../source/readModel/overview.js';
import { getSiteStatus } from '../source/readModel/siteState.js';
import { formatOverview, formatSite } from './statusReport.js';
import { terminalWidth } from './terminal.js';
import { parseSiteKey, siteKey } from '../domain/site.js';

/**
 * `npm run status -- [--site <dealerId>/<siteId>] [--json]`: what an operator asks first, read straight from
 * PostgreSQL (only `DATABASE_URL` is needed; no Redis, no CHeKT credentials). Queries are the API's
 * (source/readModel/overview.ts, source/readModel/siteState.ts). Exit codes (docs/CONSOLE.md "Exit codes"): 0 healthy; 1 a site on
 * hold, a contact failed for good, or the oldest unsynced change older than `ALERT_BEHIND_SECONDS` (with `--site`:
 * of that site); 2 bad usage, an invalid `DATABASE_URL`, a database that cannot be reached or was never migrated,
 * or a site no CRM site maps to.
 */

const USAGE = `Usage: npm run status -- [options]

Prints sites on hold, unreachable sites (no contact CHeKT can text), recent failures, the oldest
change not yet applied and the last runs, read from PostgreSQL (DATABASE_URL; phones are classified
under PHONE_DEFAULT_REGION).

Options:
  --site <dealerId>/<siteId>  one site instead: its hold and every contact's sync state
  --json                      print one JSON object instead of tables
  -h, --help                  show this help

Exit codes: 0 healthy; 1 a site on hold, a contact failed for good, or the oldest
unsynced change older than ALERT_BEHIND_SECONDS (default 900); 2 bad usage,
configuration or database.`;

/** How long PostgreSQL may take to answer the first query, in ms. */
const CONNECT_TIMEOUT_MS = 10_000;

async function main(): Promise<number> {
  const args = readCommandLine(USAGE, () => {
    const values = parseArgs({
      options: { site: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: false,
      strict: true,
    }).values;
    return { ...values, site: values.site === undefined ? undefined : parseSiteKey(values.site) };
  });
  if (typeof args === 'number') return args;
  const { site } = args;
  let store: StoreConfig;
  let behindSeconds: number;
  let rules;
  try {
    loadEnvFile();
    store = loadStoreConfig(process.env);
    behindSeconds = loadBehindSeconds(process.env);
    rules = loadPhoneRules(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 2;
  }
  const databaseUrl = store.databaseUrl;
  const conn = openConnections({ databaseUrl, schema: store.databaseSchema, crm: store.crm, poolSize: 4, connectionTimeoutMs: CONNECT_TIMEOUT_MS });
  const db = conn.db;
  try {
    const problem = await checkStateDatabase(db, databaseUrl, CONNECT_TIMEOUT_MS);
    if (problem) {
      console.error(problem);
      return 2;
    }
    if (site) {
      const status = await getSiteStatus(conn, site, rules);
      if (!status) {
        console.error(`site ${siteKey(site)}: no CRM site has this chekt_dealer_id/chekt_site_id`);
        return 2;
      }
      const health = assessHealth(siteHealthFacts(status), behindSeconds);
      console.log(args.json ? JSON.stringify({ ...status, health }, null, 2) : `${formatHealth(health)}\n${formatSite(status, { width: terminalWidth() })}`);
      return health.healthy ? 0 : 1;
    }
    const report = await readStatusReport(conn, behindSeconds, rules);
    console.log(args.json ? JSON.stringify(report, null, 2) : `${formatHealth(report.health)}\n\n${formatOverview(report, { width: terminalWidth() })}`);
    return report.health.healthy ? 0 : 1;
  } catch (err) {
    console.error(`DATABASE_URL: reading ${redact(databaseUrl)} failed: ${describeDatabaseError(err)}`);
    return 2;
  } finally {
    await conn.close();
  }
}

/** The first line of the report: "Health: OK", or "Health: NEEDS AN OPERATOR" and one line per problem. */
function formatHealth(h: Health): string {
  return h.healthy ? 'Health: OK' : ['Health: NEEDS AN OPERATOR (exit 1)', ...h.problems.map((p) => `  - ${p}`)].join('\n');
}

process.exitCode = await main();
