import { parseArgs } from 'node:util';
import { createApp } from '../app.js';
import type { SiteRef } from '../chekt/types.js';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { checkConnections, checkCredentials, PreflightError } from '../preflight.js';
import { parseSiteRef } from '../sync/startRun.js';
import { formatReport, runSucceeded } from './report.js';
import { runSync } from './runSync.js';

/**
 * `npm run sync -- [--site <dealerId>/<siteId>]... [--dry-run] [--json]`
 * Exit codes: 0 every operation succeeded; 1 any operation, site or the run failed; 2 bad usage or config
 * (including a database or Redis that cannot be reached, a database that was never migrated, or CHeKT
 * credentials the token endpoint rejects).
 */

const USAGE = `Usage: npm run sync -- [options]

Plans the given sites (default: every site with sync_enabled), executes the plan unless --dry-run,
waits until every operation it caused has finished, and prints a summary.

Options:
  --site <dealerId>/<siteId>  a CHeKT site to sync (repeatable); default all enabled sites
  --dry-run                   plan and report only; write nothing to CHeKT
  --json                      print one JSON object instead of the readable summary
  --timeout <seconds>         give up waiting after this long (default 3600)
  -h, --help                  show this help

Exit codes: 0 all succeeded, 1 something failed, 2 bad usage or configuration.
Configuration comes from the environment; see .env.example.`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        site: { type: 'string', multiple: true },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  let sites: SiteRef[];
  let timeoutMs: number | undefined;
  try {
    sites = (args.site ?? []).map(parseSiteRef);
    if (args.timeout !== undefined) {
      const s = Number(args.timeout);
      if (!Number.isFinite(s) || s <= 0) throw new Error(`invalid --timeout "${args.timeout}": expected seconds > 0`);
      timeoutMs = s * 1000;
    }
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  // Logs go to stderr so stdout carries only the report (JSON with --json).
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr);
  const app = createApp({ config, logger });
  try {
    await checkConnections({ db: app.db, redis: app.redis, databaseUrl: config.databaseUrl, redisUrl: config.redisUrl });
    await checkCredentials(app.tokens, config.chekt.tokenUrl, config.chekt.auth.mode);
  } catch (err) {
    console.error(`sync failed: ${(err as Error).message}`);
    await app.stop({ force: true });
    return err instanceof PreflightError ? 2 : 1;
  }
  try {
    let lastPrint = 0;
    const report = await runSync(app, {
      sites,
      dryRun: args['dry-run'],
      trigger: 'cli',
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      onProgress: (done, total) => {
        if (args.json || Date.now() - lastPrint < 2000) return;
        lastPrint = Date.now();
        process.stderr.write(`progress: ${done}/${total} operations finished\n`);
      },
    });
    console.log(args.json ? JSON.stringify(report, null, 2) : formatReport(report));
    if (report.sites.rejected.length > 0) return 2;
    return runSucceeded(report) ? 0 : 1;
  } catch (err) {
    console.error(`sync failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await app.stop();
  }
}

process.exitCode = await main();
