import { parseArgs } from 'node:util';
import { readCommandLine } from './commandLine.js';
import { ConfigError, loadEnvFile, loadPhoneRules, loadStoreConfig, type StoreConfig } from '../config.js';
import { describeCrmFailure, redact } from '../preflight.js';
import { createCrmSource } from '../source/crm/database.js';
import { checkSource } from '../source/crm/sourceCheck.js';
import { formatSourceCheck, toJson } from './sourceCheckReport.js';
import { terminalWidth } from './terminal.js';

/**
 * `npm run source:check -- [--json] [--preview N]`: the partner's mapping checked before the first write
 * (docs/SOURCE-CHECK.md). Reads only the CRM (`CRM_DATABASE_URL`, default `DATABASE_URL`; `CRM_SITES_SOURCE`,
 * `CRM_CONTACTS_SOURCE`) and the phone rules: no Redis, no CHeKT credentials, nothing written. Exit codes: 0 the
 * contract holds and the data has no problem; 1 data problems; 2 bad usage or configuration, a CRM that cannot
 * be reached, or a relation, column or privilege missing (or a relation whose read fails).
 */

const USAGE = `Usage: npm run source:check -- [options]

Checks the CRM's two relations (CRM_SITES_SOURCE, CRM_CONTACTS_SOURCE in CRM_DATABASE_URL) against the
source contract, then every site and live contact row in one read-only snapshot, and prints counts,
the problems found and a preview of sites: ids only, never names, phones or e-mails.

Options:
  --json         print one JSON object instead of the readable report
  --preview <N>  sites in the preview (default 10, 0 for none)
  -h, --help     show this help

Exit codes: 0 all good; 1 data problems; 2 bad usage or configuration, a CRM that cannot be
reached, or a relation, column or privilege missing.`;

/** How long the CRM may take to accept a connection, in ms. */
const CONNECT_TIMEOUT_MS = 10_000;

async function main(): Promise<number> {
  const args = readCommandLine(USAGE, () => {
    const values = parseArgs({
      options: { json: { type: 'boolean', default: false }, preview: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: false,
      strict: true,
    }).values;
    let previewSites = 10;
    if (values.preview !== undefined) {
      if (!/^\d+$/.test(values.preview.trim()) || Number(values.preview) > 10_000) throw new Error(`invalid --preview "${values.preview}": expected a number of sites from 0 to 10000`);
      previewSites = Number(values.preview);
    }
    return { ...values, previewSites };
  });
  if (typeof args === 'number') return args;
  const { previewSites } = args;
  let store: StoreConfig;
  let rules;
  try {
    loadEnvFile();
    // Every bad variable at once, as loadConfig lists them.
    const [c, r] = [attempt(() => loadStoreConfig(process.env)), attempt(() => loadPhoneRules(process.env))];
    if (c instanceof ConfigError || r instanceof ConfigError) throw new ConfigError([c, r].flatMap((x) => (x instanceof ConfigError ? x.problems : [])));
    [store, rules] = [c, r];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 2;
  }
  const { crm: crmConfig } = store;
  const crm = createCrmSource({ databaseUrl: crmConfig.databaseUrl, relations: { sites: crmConfig.sites, contacts: crmConfig.contacts }, poolSize: 1, connectionTimeoutMs: CONNECT_TIMEOUT_MS });
  try {
    const result = await checkSource(crm, { rules, previewSites });
    const json = toJson(result, redact(crmConfig.databaseUrl));
    console.log(args.json ? JSON.stringify(json, null, 2) : formatSourceCheck(json, { width: terminalWidth() }));
    return result.exitCode;
  } catch (err) {
    const variable = crmConfig.databaseUrl === store.databaseUrl ? 'CRM_DATABASE_URL (default: DATABASE_URL)' : 'CRM_DATABASE_URL';
    console.error(`source:check failed: ${describeCrmFailure(err, variable, crmConfig.databaseUrl)}`);
    return 2;
  } finally {
    await crm.close();
  }
}

/** `load()`, or the {@link ConfigError} it threw. */
function attempt<T>(load: () => T): T | ConfigError {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

process.exitCode = await main();
