import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { planChangeTick } from '../../src/sync/control.js';
import { startRun } from '../../src/sync/startRun.js';
import { waitForRun } from '../../src/sync/waitForRun.js';
import type { BenchReply, BenchRequest, RunResult } from './protocol.js';

/**
 * A service process for the bench (forked by ./service.ts): `createApp` from the environment, then the
 * operation workers (`--workers`) and the job schedulers with the CRM-change listener (`--scheduler`), as
 * `npm start` runs them minus HTTP. It answers the bench's commands over the IPC
 * channel (./protocol.ts) and reports its own peak RSS and CPU time, so each number belongs to this process.
 */

if (!process.send) throw new Error('tools/bench/worker.ts runs as a child of the bench (needs an IPC channel)');
const send = (m: BenchReply) => process.send!(m);

const { values: role } = parseArgs({ options: { workers: { type: 'boolean', default: false }, scheduler: { type: 'boolean', default: false } } });
const config = loadConfig(process.env);
const app = createApp({ config, logger: createLogger(config.logLevel, process.stdout) });
// The control worker runs the scheduler's ticks and the notified change plans.
if (role.workers) await app.startWorkers({ control: role.scheduler });
if (role.scheduler) await app.startScheduler();

const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

let loop: { stop: boolean; passes: number; done: Promise<void> } | undefined;

/** Plans one run (a `changes` tick exactly as the scheduler's, or a `reconcile` resync) and enqueues its jobs. */
async function plan(mode: 'changes' | 'reconcile'): Promise<RunResult> {
  const started = Date.now();
  let runId: string | null;
  let planned: number;
  if (mode === 'changes') {
    // What a scheduled tick plans (sync/control.ts): no run row when nothing changed.
    const tick = await planChangeTick(app.planDeps);
    runId = tick.runId;
    planned = tick.totals.creates + tick.totals.updates + tick.totals.deletes;
  } else {
    const r = await startRun(app.planDeps, { trigger: 'cli', sites: [], dryRun: false, mode: 'reconcile' });
    runId = r.runId;
    planned = r.summary.totals.creates + r.summary.totals.updates + r.summary.totals.deletes;
  }
  const planMs = Date.now() - started;
  return { runId, planned, planMs, wallMs: planMs, failed: 0, held: 0 };
}

/** Waits until no operation of the planned run is queued (whichever process's workers run them). */
async function drain(p: RunResult): Promise<RunResult> {
  if (!p.runId) return p;
  const started = Date.now();
  const report = await waitForRun(app.db, app.operationsQueue, p.runId, { jobOptions: app.jobOptions, pollMs: 100, timeoutMs: 900_000 });
  const count = (outcome: string) => Object.values(report.counts).reduce((n, byOutcome) => n + (byOutcome[outcome] ?? 0), 0);
  return { ...p, wallMs: p.planMs + Date.now() - started, failed: count('failed'), held: count('held') };
}

const run = async (mode: 'changes' | 'reconcile') => drain(await plan(mode));

async function handle(req: BenchRequest): Promise<BenchReply> {
  switch (req.cmd) {
    case 'run':
      return { id: req.id, ok: true, result: await run(req.mode) };
    case 'plan':
      return { id: req.id, ok: true, result: await plan(req.mode) };
    case 'wait':
      return { id: req.id, ok: true, result: await drain(req.planned) };
    case 'loopStart': {
      const state = { stop: false, passes: 0, done: Promise.resolve() };
      state.done = (async () => {
        while (!state.stop) {
          await run(req.mode);
          state.passes += 1;
        }
      })();
      loop = state;
      return { id: req.id, ok: true };
    }
    case 'loopStop': {
      if (loop) loop.stop = true;
      await loop?.done;
      return { id: req.id, ok: true, result: { passes: loop?.passes ?? 0 } };
    }
    case 'stop':
      await app.stop();
      return { id: req.id, ok: true, usage: usage() };
  }
}

function usage() {
  const u = process.resourceUsage();
  return { maxRssMb: u.maxRSS / 1024, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, lagP50Ms: lag.percentile(50) / 1e6, lagP99Ms: lag.percentile(99) / 1e6, lagMaxMs: lag.max / 1e6 };
}

process.on('message', (req: BenchRequest) => {
  handle(req)
    .then((reply) => {
      // After `stop`, exit once the reply is flushed: a closed app may still hold an idle socket for a while.
      if (req.cmd === 'stop') process.send!(reply, () => process.exit(0));
      else send(reply);
    })
    .catch((err: unknown) => send({ id: req.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
});
// The bench went away (it failed or was interrupted): do not linger as an orphan.
process.on('disconnect', () => process.exit(1));
send({ id: 0, ok: true, ready: true });
