import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { unreachableSitesGauge } from '../../src/source/reach.js';
import { dbNow } from '../../src/source/db.js';
import { planChangeTick } from '../../src/sync/control.js';

/**
 * Child process of `npm run bench -- --large` (./scenarios/large.ts): plans one `changes` tick, exactly as the
 * job scheduler's (sync/control.ts `planChangeTick`), over the database the parent seeded, and reports over IPC how long it took and this
 * process's RSS. Runs alone in its process so the peak RSS is the planning's own (plus the app's baseline,
 * reported separately). No worker runs; CHEKT_API_URL is never called by a `changes` plan.
 */

if (!process.send) throw new Error('tools/bench/largePlan.ts runs as a child of the bench (needs an IPC channel)');
const config = loadConfig(process.env);
const app = createApp({ config, logger: createLogger(config.logLevel, process.stdout) });
// Warm connections, as in a service that has been running: the first query opens the pool.
await dbNow(app.db);
await app.redis.ping();
const baseRssMb = process.memoryUsage().rss / 2 ** 20;
// The worst block of the event loop while planning: in the service, operation jobs share this loop, and a block
// longer than BullMQ's lock (30 s) would lose their locks (docs/RETRIES.md "Fencing").
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const ticks: Array<{ planMs: number; planned: number }> = [];
for (let i = 0; i < 2; i++) {
  const started = Date.now();
  const { totals } = await planChangeTick(app.planDeps);
  ticks.push({ planMs: Date.now() - started, planned: totals.creates + totals.updates + totals.deletes });
}
lag.disable();
const maxBlockMs = lag.max / 1e6;
const maxRssMb = process.resourceUsage().maxRSS / 1024;
// The read behind `npm run status` and the gauge (docs/REACHABILITY.md): every enabled site's contacts, classified;
// then again as the gauge's next scrape does (only changed rows classified again). After the planning's RSS.
const gauge = unreachableSitesGauge(app, app.planDeps.rules, 0);
let t = Date.now();
const unreachable = await gauge();
const coldMs = Date.now() - t;
t = Date.now();
await gauge();
const reachRead = { ms: coldMs, warmMs: Date.now() - t, unreachable, rssMb: process.resourceUsage().maxRSS / 1024 };
await app.stop();
process.send({ baseRssMb, maxRssMb, maxBlockMs, ticks, reachRead }, () => process.exit(0));
