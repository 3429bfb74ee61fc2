import { parseArgs } from 'node:util';
import { readCommandLine, usageError } from './commandLine.js';
import { hostname, userInfo } from 'node:os';
import { createApp, type App } from '../app.js';
import { finishAudit, startAudit } from '../source/audit.js';
import { listHeldDeletes, readHold } from '../source/readModel/holds.js';
import { parseSiteKey, siteKey, type SiteRef } from '../domain/site.js';
import { ConfigError, loadConfig, loadEnvFile } from '../config.js';
import { createLogger } from '../logger.js';
import { checkEvictionPolicy } from '../recovery/evictionPolicy.js';
import { configSecrets } from '../scrub.js';
import { checkConnections, checkCredentials, PreflightError } from '../preflight.js';
import { selectSites } from '../source/crm.js';
import { createProgress, createRateMeter, type Progress } from './progress.js';
import { formatReport, runSucceeded } from './report.js';
import { runSync } from './runSync.js';

/**
 * `npm run sync -- [--site <dealerId>/<siteId>]... [--dry-run] [--approve-deletes] [--json]`
 * Exit codes: 0 every operation succeeded; 1 any operation, site or the run failed, or deletes are held; 2 bad usage or config
 * (including a database or Redis that cannot be reached, a database that was never migrated, or CHeKT
 * credentials the token endpoint rejects).
 */

const USAGE = `Usage: npm run sync -- [options]

Reconciles the given sites (default: every site with sync_enabled) against CHeKT's live contact lists,
repairing drift, executes the plan unless --dry-run, waits until every operation it caused has finished,
and prints a summary. Deletes that look like a mistake (a site whose CRM list is empty, or more than
DELETE_HOLD_SHARE_PERCENT of a site's contacts) are held until approved with --approve-deletes.

Options:
  --site <dealerId>/<siteId>  a CHeKT site to sync (repeatable); default all enabled sites
  --dry-run                   plan and report only; write nothing to CHeKT
  --approve-deletes           make the held deletes of the --site sites (requires --site)
  --json                      print one JSON object instead of the readable summary
  --timeout <seconds>         give up waiting after this long (default 3600)
  -h, --help                  show this help

Exit codes: 0 all succeeded, 1 something failed or deletes are held, 2 bad usage or configuration.
Configuration comes from the environment; see .env.example.`;

async function main(): Promise<number> {
  const args = readCommandLine(
    USAGE,
    () =>
      parseArgs({
        options: {
          site: { type: 'string', multiple: true },
          'dry-run': { type: 'boolean', default: false },
          'approve-deletes': { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
          timeout: { type: 'string' },
          help: { type: 'boolean', short: 'h', default: false },
        },
        allowPositionals: false,
        strict: true,
      }).values,
  );
  if (typeof args === 'number') return args;
  let sites: SiteRef[];
  let timeoutMs: number | undefined;
  try {
    sites = (args.site ?? []).map(parseSiteKey);
    if (args['approve-deletes'] && sites.length === 0) throw new Error('--approve-deletes needs --site: approve the deletes of named sites only');
    if (args.timeout !== undefined) {
      const s = Number(args.timeout);
      if (!Number.isFinite(s) || s <= 0) throw new Error(`invalid --timeout "${args.timeout}": expected seconds > 0`);
      timeoutMs = s * 1000;
    }
  } catch (err) {
    return usageError(err, USAGE);
  }
  let config;
  try {
    loadEnvFile();
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  // Logs go to stderr so stdout carries only the report (JSON with --json).
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr, { secrets: configSecrets(config) });
  const app = createApp({ config, logger });
  try {
    await checkConnections(app);
    // Redis must not evict the queues unless REDIS_ALLOW_EVICTION=true (docs/OPERATIONS-FAULTS.md).
    await checkEvictionPolicy(app.redis, config.redisAllowEviction, logger);
    await checkCredentials(app.tokens, config.chekt.tokenUrl, config.chekt.auth.mode, config.chekt.apiUrl);
  } catch (err) {
    console.error(`sync failed: ${(err as Error).message}`);
    await app.stop({ force: true });
    return err instanceof PreflightError ? 2 : 1;
  }
  // A requested site missing from the CRM or disabled is a usage error: say so before any run is recorded.
  const { rejected } = await selectSites(app.crm, sites);
  if (rejected.length > 0) {
    for (const r of rejected) console.error(`site ${r.ref} cannot be synced: ${r.reason}`);
    await app.stop();
    return 2;
  }
  // Approving deletes is an operator action with legal weight: recorded before it runs (docs/CONSOLE.md "Audit").
  let auditId: string | undefined;
  if (args['approve-deletes']) {
    try {
      auditId = await auditCliApproval(app, sites, args['dry-run']);
    } catch (err) {
      console.error(`sync failed: the audit trail cannot be written, so nothing was approved: ${(err as Error).message}`);
      await app.stop();
      return 1;
    }
  }
  let progress: Progress | undefined;
  try {
    const calls = createRateMeter();
    const report = await runSync(app, {
      sites,
      dryRun: args['dry-run'],
      approveDeletes: args['approve-deletes'],
      trigger: 'cli',
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      onProgress: (done, total, failed) => {
        if (args.json) return;
        progress ??= createProgress({ stream: process.stderr, total });
        // This process's CHeKT calls tell the rate only when its own workers run the operations.
        const callsPerMinute = app.workers.length > 0 ? calls(app.rateLimiter.stats?.().acquired ?? 0) : undefined;
        progress.update({ done, failed, total, ...(callsPerMinute !== undefined ? { callsPerMinute } : {}) });
      },
    });
    progress?.stop();
    if (auditId) await finishAudit(app.db, auditId, 'succeeded', `run ${report.runId}`).catch(() => undefined);
    console.log(args.json ? JSON.stringify(report, null, 2) : formatReport(report));
    if (report.sites.rejected.length > 0) return 2;
    return runSucceeded(report) ? 0 : 1;
  } catch (err) {
    progress?.stop();
    if (auditId) await finishAudit(app.db, auditId, 'failed', (err as Error).message).catch(() => undefined);
    console.error(`sync failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await app.stop();
  }
}

/**
 * Writes the `hold.approve` audit row of `--approve-deletes` (actor: the OS user and host, role `cli`), with each
 * site's hold reason and held deletes. Returns its id.
 * @throws the Prisma/pg error when the row cannot be written (then nothing is approved).
 */
async function auditCliApproval(app: App, sites: readonly SiteRef[], dryRun: boolean): Promise<string> {
  const holds = [];
  for (const ref of sites) {
    const hold = await readHold(app.db, ref);
    const deletes = hold ? await listHeldDeletes(app.db, ref) : [];
    holds.push({ site: siteKey(ref), reason: hold?.reason ?? null, externalContactIds: deletes.map((d) => d.externalContactId) });
  }
  return startAudit(app.db, {
    actor: `${userInfo().username}@${hostname()}`,
    role: 'cli',
    action: 'hold.approve',
    target: sites.map((s) => siteKey(s)).join(','),
    params: { holds, dryRun, via: 'cli' },
  });
}

process.exitCode = await main();
