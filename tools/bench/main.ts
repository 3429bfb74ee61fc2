import { execFileSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import type { BenchServers } from './env.js';
import type { BenchContext } from './measure.js';
import { runDrainScenario } from './scenarios/drain.js';
import { runLargePlan } from './scenarios/large.js';
import { runLatencyScenario } from './scenarios/latency.js';
import { runMultiProcessScenario, runStormScenario, runSustainedScenario } from './scenarios/rate.js';
import { runSyncScenarios } from './scenarios/sync.js';
import { formatTable, type Row } from './table.js';

/**
 * `npm run bench [-- --large] [-- --only <list>]`: measures the service against the CHeKT sandbox and prints one
 * Markdown table on stdout (progress on stderr). Self-contained: its own databases
 * (`chekt_contact_sync_bench`, `..._naive`, `..._large`; dropped and created again each run) and Redis prefixes
 * (`chekt-sync-bench*`). Every scenario ends with CHeKT checked against the CRM; the exit code is 1 when a
 * check fails (a difference, a duplicate, a failed operation), 0 otherwise. docs/BENCHMARKS.md explains the
 * numbers.
 */

const SCENARIOS = ['sync', 'latency', 'storm', 'multi', 'sustained', 'drain', 'large'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values: args } = parseArgs({
  options: {
    large: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'string' },
    source: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(`Usage: npm run bench [-- --large] [-- --only ${SCENARIOS.join(',')}]
  --large   also plan a CRM of 100,000 contacts on 30,000 sites with nothing changed (a child process)
  --only    run only these scenario groups (comma-separated)
  --profile <dir>  write a V8 CPU profile of every service process into <dir> (open in Chrome DevTools)
  --source  run the service processes as TypeScript through tsx (default: the compiled build, dist-bench/)
Environment: BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL (default redis://127.0.0.1:6379),
  BENCH_TAG (appended to the bench's database names and Redis prefixes, for several checkouts on one machine)`);
  process.exit(0);
}
// The in-process sandboxes hold each delayed request on one AbortSignal (their shutdown signal): more than ten at once
// is expected here, not a leak.
setMaxListeners(1000);
const only = args.only
  ?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = only?.filter((s) => !SCENARIOS.includes(s as Scenario)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown scenario group(s): ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  process.exit(2);
}
const wanted = (s: Scenario) => (only ? only.includes(s) : s !== 'large' || args.large);

const servers: BenchServers = {
  pgAdminUrl: process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  tag: process.env.BENCH_TAG?.replace(/[^a-z0-9_]/gi, '') || undefined,
};
const started = Date.now();
const ctx: BenchContext = {
  servers,
  profileDir: args.profile,
  runtime: args.source ? 'source' : 'compiled',
  progress: (message) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`),
};

const rows: Row[] = [];
try {
  if (wanted('sync') || wanted('latency')) {
    const envs = await runSyncScenarios(ctx, { sites: 300, contacts: 1000, ratePerMinute: 3000, latencyMs: 35 }, rows);
    if (wanted('latency')) await runLatencyScenario(ctx, envs, { updates: 40, spacingMs: 100, ratePerMinute: 3000 }, rows);
    await Promise.all([envs.changes.close(), envs.reconcile.close()]);
  }
  if (wanted('storm')) await runStormScenario(ctx, { sites: 20, contacts: 90, configuredPerMinute: 600, realPerMinute: 300, latencyMs: 35 }, rows);
  if (wanted('multi')) await runMultiProcessScenario(ctx, { sites: 450, contacts: 1500, ratePerMinute: 3000, processes: 3, latencyMs: 35 }, rows);
  if (wanted('sustained')) await runSustainedScenario(ctx, { sites: 150, contacts: 550, ratePerMinute: 600, latencyMs: 35 }, rows);
  if (wanted('drain'))
    await runDrainScenario(
      ctx,
      {
        sites: 900,
        contacts: 3000,
        latencyMs: 2,
        configs: [
          [1, 8],
          [2, 16],
        ],
      },
      rows,
    );
  if (wanted('large')) await runLargePlan(ctx, { sites: 30_000, contacts: 100_000 }, rows);
} catch (err) {
  ctx.progress(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
}

console.log(machineLine());
console.log('');
console.log(formatTable(rows));
const failed = rows.filter((r) => !r.ok);
ctx.progress(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; ${failed.length === 0 ? 'every check passed' : `${failed.length} rows FAILED a check`}`);
if (failed.length > 0) process.exitCode = 1;
// A scenario that threw may leave a sandbox or a pool open; the table is printed, so end here.
process.exit();

/** One line naming the machine the numbers come from. */
function machineLine(): string {
  let pg = '?';
  try {
    pg = execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // psql missing: the server version is still in the docs.
  }
  return `Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${pg}`;
}
