import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { createApp, type App } from '../../src/app.js';
import { chektContactListSchema } from '../../src/chekt/schemas.js';
import type { JsonRunReport } from '../../src/domain/runReport.js';
import { formatReport, runSucceeded } from '../../src/cli/report.js';
import { runSync } from '../../src/cli/runSync.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { migrate } from '../../src/db/migrate.js';
import { credentialsFromConfig } from '../../src/http/auth.js';
import { buildHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { configSecrets } from '../../src/scrub.js';
import { checkConnections, redact } from '../../src/preflight.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { readSiteContacts, selectSites } from '../../src/source/crm.js';
import { unreachableOf } from '../../src/domain/reach.js';
import { readSiteReach } from '../../src/source/reach.js';
import { generateDemoData, generateDemoEdits, type DemoContact } from './data.js';
import { compareSites } from './verify.js';
import { parseSiteKey, siteKey, type SiteRef } from '../../src/domain/site.js';

/**
 * `npm run demo [-- --serve]`: the main job on realistic data. Applies migrations, seeds a deterministic
 * multi-locale CRM (320 sites, 1,100 contacts), starts the CHeKT sandbox in-process, syncs everything,
 * edits/soft-deletes/adds a sample and syncs again, then checks CHeKT equals the CRM and that one more sync
 * makes no write call. Exit 0 only when CHeKT matches the CRM.
 *
 * Safety: the demo wipes and reseeds its database, so by default it uses its own database
 * (`chekt_contact_sync_demo`) and refuses to touch one that holds sites it did not create.
 */

const { values: args } = parseArgs({ options: { serve: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } });
if (args.help) {
  console.log('Usage: npm run demo [-- --serve]\n  --serve  keep the service, dashboard and sandbox running afterwards');
  process.exit(0);
}

const env: Record<string, string | undefined> = {
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/chekt_contact_sync_demo',
  QUEUE_PREFIX: 'chekt-sync-demo',
  CHEKT_RATE_LIMIT_PER_MINUTE: '6000',
  CHEKT_CLIENT_ID: 'sandbox-client',
  CHEKT_CLIENT_SECRET: 'sandbox-secret',
  ADMIN_USER: 'admin',
  ADMIN_PASSWORD: 'demo-password',
  LOG_LEVEL: 'warn',
  ...Object.fromEntries(Object.entries(process.env).filter(([, v]) => v)),
};

/** The HTTP port `--serve` needs is taken (or the host cannot be bound). */
class PortInUseError extends Error {}

const started = Date.now();
const say = (line: string) => console.log(line);
let sandbox: Sandbox | undefined;
let app: App | undefined;
try {
  const data = generateDemoData();
  const probe = loadConfig({ ...env, CHEKT_API_URL: 'http://127.0.0.1:1' });
  // --serve listens at the end: find out now, not after the whole demo, that the port is taken.
  if (args.serve) await checkPortFree(probe.http.host, probe.http.port);
  sandbox = await startSandbox({
    port: Number(env.SANDBOX_PORT ?? 0),
    rateLimitPerMinute: probe.chekt.rateLimitPerMinute,
    sites: data.sites.map((s) => ({ dealerId: s.chektDealerId, siteId: s.chektSiteId })),
  });
  const config = loadConfig({ ...env, CHEKT_API_URL: sandbox.url, CHEKT_TOKEN_URL: `${sandbox.url}/oauth/token` });
  say(`chekt-contact-sync demo\n  database ${redact(config.databaseUrl)}, redis ${redact(config.redisUrl)}, CHeKT sandbox ${sandbox.url}`);
  say(`  rate limit ${config.chekt.rateLimitPerMinute}/min (sandbox enforces the same), default phone region ${config.sync.phoneDefaultRegion}`);
  await migrate({ databaseUrl: config.databaseUrl });
  app = createApp({ config, logger: createLogger(config.logLevel, process.stderr, { secrets: configSecrets(config) }) });
  await checkConnections(app);
  await resetDemoState(app);
  await app.db.site.createMany({ data: data.sites });
  await app.db.contact.createMany({ data: data.contacts });
  say(`\nSeeded the CRM: ${data.sites.length} sites (${data.sites.filter((s) => !s.syncEnabled).length} with sync disabled), ${data.contacts.length} contacts.`);

  const first = await step(app, sandbox, 'First sync into an empty CHeKT (reconcile: lists every site)', 'reconcile');
  const edits = generateDemoEdits(data);
  await applyEdits(app, edits);
  say(`\nEdited the CRM: ${edits.updates.length} contacts changed, ${edits.softDeletes.length} soft-deleted, ${edits.additions.length} added.`);
  const second = await step(app, sandbox, 'Change tick after the edits (CRM against the ledger: no list, one write per change)', 'changes');
  // Two sites lose 2 of their 5 or 6 contacts (above DELETE_HOLD_SHARE_PERCENT) and one its last SMS-capable
  // contact (SITE_MIN_SMS_CONTACTS), so those deletes were held.
  // An operator looks and approves them (what `npm run sync -- --site d/s --approve-deletes` does).
  const held = second.report.held.map((h) => parseSiteKey(h.site));
  const approval = held.length > 0 ? await step(app, sandbox, `Operator approves the held deletes of ${held.length} site(s)`, 'reconcile', { sites: held, approveDeletes: true }) : second;
  const third = await step(app, sandbox, 'Change tick, nothing changed (expect zero CHeKT calls)', 'changes');
  const fourth = await step(app, sandbox, 'Reconcile against CHeKT (drift check: expect no write calls)', 'reconcile');

  const mismatches = await verify(app, sandbox);
  const writesInThird = third.calls + fourth.writes;
  say(`\nCHeKT vs CRM: ${mismatches.length === 0 ? 'CHeKT matches the CRM for every enabled site' : `${mismatches.length} differences`}`);
  for (const m of mismatches.slice(0, 20)) say(`  ${m.site} ${m.externalContactId}: ${m.problem}`);
  say(`CHeKT calls in the quiet change tick: ${third.calls}; write calls in the reconcile: ${fourth.writes}. Total time ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  // Reachability (docs/REACHABILITY.md): in sync is not enough when nobody on a site can receive CHeKT's text.
  const unreachable = unreachableOf(await readSiteReach(app, app.planDeps.rules, null));
  say(`Unreachable sites (no contact can receive CHeKT's verification text): ${unreachable.length}${unreachable.length > 0 ? ', e.g.' : ''}`);
  for (const u of unreachable.slice(0, 10)) say(`  ${u.site}: ${u.reason}`);
  const ok = mismatches.length === 0 && writesInThird === 0 && [first, approval, third, fourth].every((r) => runSucceeded(r.report));
  const sample = data.sites.find((s) => s.syncEnabled);
  const sampleRef = sample ? siteKey(sample.chektDealerId, sample.chektSiteId) : '<dealerId>/<siteId>';
  if (args.serve) {
    await serve(app, sandbox);
    say(lookAround(config, true, sampleRef));
  } else {
    say(lookAround(config, false, sampleRef));
    await app.stop();
    await sandbox.close();
    process.exitCode = ok ? 0 : 1;
  }
} catch (err) {
  if (err instanceof ConfigError || err instanceof PortInUseError) {
    console.error(err.message);
    process.exitCode = 2;
  } else {
    console.error(`demo failed: ${(err as Error).message}`);
    process.exitCode = 1;
  }
  await app?.stop({ force: true }).catch(() => undefined);
  await sandbox?.close().catch(() => undefined);
}

/** Resolves when `host:port` can be listened on right now (it is released again at once). */
async function checkPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'is in use' : `cannot be listened on (${err.code ?? err.message})`;
      reject(new PortInUseError(`HTTP_HOST / HTTP_PORT: ${host}:${port} ${why}; --serve needs it for the dashboard. Stop what uses it or set HTTP_PORT, e.g. HTTP_PORT=3100 npm run demo -- --serve`));
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** How to look at the demo's state afterwards: its own database, the CLI and, with --serve, the dashboard and API. */
function lookAround(config: { databaseUrl: string; http: { port: number; adminUser: string | undefined; adminPassword: string | undefined } }, serving: boolean, site: string): string {
  const db = `DATABASE_URL=${redact(config.databaseUrl)}`;
  const lines = ['', 'Look around (the demo keeps its own database; the CLI needs DATABASE_URL pointed at it):', `  ${db} npm run status`, `  ${db} npm run status -- --site ${site}`];
  if (serving) {
    const auth = `${config.http.adminUser}:${config.http.adminPassword}`;
    lines.push(
      `  dashboard  http://127.0.0.1:${config.http.port}/admin/queues  (user ${config.http.adminUser}, password ${config.http.adminPassword})`,
      `  curl -u ${auth} http://127.0.0.1:${config.http.port}/api/runs`,
      `  curl -u ${auth} http://127.0.0.1:${config.http.port}/api/sites/${site}`,
    );
  } else {
    lines.push('  npm run demo -- --serve   keeps the dashboard, API and sandbox running afterwards');
  }
  return lines.join('\n');
}

async function step(
  app: App,
  sandbox: Sandbox,
  title: string,
  mode: 'changes' | 'reconcile',
  opts: { sites?: SiteRef[]; approveDeletes?: boolean } = {},
): Promise<{ report: JsonRunReport; writes: number; calls: number }> {
  sandbox.resetStats();
  const t = Date.now();
  let last = 0;
  const report = await runSync(app, {
    trigger: 'demo',
    ...(mode === 'changes' ? { mode } : { sites: opts.sites ?? [], approveDeletes: !!opts.approveDeletes }),
    dryRun: false,
    onProgress: (done, total) => {
      if (Date.now() - last < 3000) return;
      last = Date.now();
      process.stderr.write(`  … ${done}/${total} operations finished\n`);
    },
  });
  const stats = sandbox.stats();
  say(`\n== ${title} ==\n${formatReport(report)}`);
  const calls = Object.entries(stats.byRoute).map(([route, n]) => `${route.replace('/partner/v1/dealers/:dealerId/sites/:siteId', '')}: ${n}`);
  say(`  CHeKT calls: ${stats.total} (${calls.join(', ')}); writes ${stats.writes}; 429s ${stats.rateLimited}; ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return { report, writes: stats.writes, calls: stats.total };
}

async function applyEdits(app: App, edits: ReturnType<typeof generateDemoEdits>): Promise<void> {
  const now = new Date();
  for (const c of edits.updates) {
    await app.db.contact.updateMany({ where: { id: c.id }, data: { ...fields(c), updatedAt: now } });
  }
  await app.db.contact.updateMany({ where: { id: { in: edits.softDeletes } }, data: { deletedAt: now, updatedAt: now } });
  await app.db.contact.createMany({ data: edits.additions });
}

function fields(c: DemoContact) {
  return { firstName: c.firstName, lastName: c.lastName, phoneNumber: c.phoneNumber, email: c.email };
}

async function verify(app: App, sandbox: Sandbox) {
  const { sites } = await selectSites(app.crm);
  const live = await readSiteContacts(app.crm, sites, app.planDeps.rules);
  const state = sites.map((s) => ({
    ref: siteKey(s),
    desired: live.contacts.get(s.crmSiteId) ?? [],
    // Read CHeKT's state the way the client reads an API response.
    remote: chektContactListSchema.parse(sandbox.contacts(s.dealerId, s.siteId)),
  }));
  return compareSites(state, app.planDeps.rules);
}

/** Wipes the demo's CRM and sync tables and queues, refusing when the database holds non-demo sites. */
async function resetDemoState(app: App): Promise<void> {
  const foreign = await app.db.site.count({ where: { NOT: { id: { startsWith: 'site-' } } } });
  if (foreign > 0) {
    throw new Error(
      `the database at DATABASE_URL holds ${foreign} sites the demo did not create; the demo reseeds its database, so point DATABASE_URL at an empty one (default chekt_contact_sync_demo)`,
    );
  }
  await app.db.$executeRawUnsafe('TRUNCATE sync_operations, sync_runs, sync_ledger, contacts, sites');
  await Promise.all([app.operationsQueue.obliterate({ force: true }), app.controlQueue.obliterate({ force: true })]);
}

async function serve(app: App, sandbox: Sandbox): Promise<void> {
  const { config } = app;
  const http = await buildHttpServer(app, credentialsFromConfig(config.http));
  await app.startScheduler();
  if (app.workers.length < 2) await app.startWorkers();
  await http.listen({ port: config.http.port, host: config.http.host });
  say(
    `\nServing: dashboard http://127.0.0.1:${config.http.port}/admin/queues (user ${config.http.adminUser}), API /api/resync and /api/runs/:id, sandbox ${sandbox.url}/__sandbox/state. Ctrl-C stops.`,
  );
  const stop = async () => {
    await http.close();
    await app.stop();
    await sandbox.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}
