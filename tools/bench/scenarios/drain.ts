import { cpus } from 'node:os';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DEFAULT_RULES } from '../../../src/domain/contact.js';
import { OPERATIONS_QUEUE } from '../../../src/queue/jobs.js';
import { idealWrites, makeData } from '../data.js';
import type { BenchEnv } from '../env.js';
import { measureRun, measuredRow, spawnServices, stopServices, type BenchContext } from '../measure.js';
import { backendCpuDelta, backendCpuMs, cpuMsByName, processCpuMs, redisMemory } from '../resources.js';
import { summarizeCalls } from '../stats.js';
import type { Row } from '../table.js';
import { describeMismatches, verifyEnv } from '../verify.js';
import { openPair } from './sync.js';

/**
 * Scenario 6, the unthrottled drain: rate limit lifted (`CHEKT_RATE_LIMIT_PER_MINUTE` 1,000,000, sandbox
 * unlimited, 2 ms latency), so the service's own cost per operation shows. The run is planned with no worker
 * and the queue paused, which also gives Redis memory per queued job; then the worker processes start and the
 * queue is resumed, so their start-up is not timed. CPU time of the workers, PostgreSQL, Redis and the bench
 * process (which hosts the sandbox) over the drain shows what limits it.
 */

/** Setup of scenario 6. */
export interface DrainSetup {
  readonly sites: number;
  readonly contacts: number;
  readonly latencyMs: number;
  /** Worker processes × concurrency tried, e.g. `[[1, 8], [2, 16]]`. */
  readonly configs: ReadonlyArray<readonly [processes: number, concurrency: number]>;
}

const UNLIMITED = 1_000_000;

/** Scenario 6 for each worker configuration, then the naive baseline once; appends rows. */
export async function runDrainScenario(ctx: BenchContext, setup: DrainSetup, rows: Row[]): Promise<void> {
  const data = makeData(setup.sites, setup.contacts, 13);
  const ideal = idealWrites(null, data, DEFAULT_RULES);
  const base = { contacts: data.contacts.length, sites: data.sites.length, changes: data.contacts.length, ideal, limit: null };
  for (const [processes, concurrency] of setup.configs) {
    const envs = await openPair(ctx, data, { ratePerMinute: 0, latencyMs: setup.latencyMs });
    try {
      ctx.progress(`6 unthrottled drain, changes: ${data.contacts.length} creates, ${processes} process(es) × concurrency ${concurrency}`);
      rows.push(await drainOnce(ctx, envs.changes, processes, concurrency, { ...base, scenario: `6 unthrottled drain (${processes} × ${concurrency})`, mode: 'changes' }));
      if (processes === setup.configs[0]?.[0] && concurrency === setup.configs[0]?.[1]) {
        ctx.progress(`6 unthrottled drain, reconcile: ${processes} process(es) × concurrency ${concurrency}`);
        const m = await measureRun(ctx, envs.reconcile, { ratePerMinute: UNLIMITED, workerConcurrency: concurrency }, 'reconcile', processes);
        const span = m.calls.lastAt !== null && m.calls.firstAt !== null ? m.calls.lastAt - m.calls.firstAt : 0;
        rows.push(
          measuredRow({ ...base, scenario: `6 unthrottled drain (${processes} × ${concurrency})`, mode: 'reconcile' }, m, [
            `${Math.round((m.calls.calls / Math.max(span, 1)) * 1000)} calls/s overall`,
          ]),
        );
      }
    } finally {
      await Promise.all([envs.changes.close(), envs.reconcile.close()]);
    }
  }
}

async function drainOnce(
  ctx: BenchContext,
  env: BenchEnv,
  processes: number,
  concurrency: number,
  base: Pick<Row, 'scenario' | 'mode' | 'contacts' | 'sites' | 'changes' | 'ideal' | 'limit'>,
): Promise<Row> {
  const settings = { ratePerMinute: UNLIMITED, workerConcurrency: concurrency };
  const connection = new Redis(ctx.servers.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(OPERATIONS_QUEUE, { connection, prefix: env.prefix });
  try {
    await queue.pause();
    const [planner] = await spawnServices(ctx, env, settings, 1, { workers: false, scheduler: false });
    env.sandbox.resetStats();
    const before = await redisMemory(ctx.servers.redisUrl, env.prefix);
    const planned = await planner!.plan('changes');
    const after = await redisMemory(ctx.servers.redisUrl, env.prefix);
    const workers = await spawnServices(ctx, env, settings, processes);
    const database = new URL(env.databaseUrl).pathname.slice(1);
    const cpu0 = { procs: workers.map((w) => processCpuMs(w.pid)), pg: await backendCpuMs(env.db, database), redis: cpuMsByName(['redis-server']), self: process.cpuUsage() };
    const t0 = Date.now();
    await queue.resume();
    const result = await planner!.wait(planned);
    const elapsed = Date.now() - t0;
    const workerCpu = workers.reduce((n, w, i) => n + processCpuMs(w.pid) - cpu0.procs[i]!, 0);
    const pgCpu = backendCpuDelta(cpu0.pg, await backendCpuMs(env.db, database));
    const redisCpu = cpuMsByName(['redis-server'])['redis-server']! - cpu0.redis['redis-server']!;
    const selfCpu = process.cpuUsage(cpu0.self);
    const sandboxCpu = (selfCpu.user + selfCpu.system) / 1000;
    const usage = await stopServices(workers);
    await stopServices([planner!]);
    const calls = summarizeCalls(env.sandbox.requests());
    const drained = summarizeCalls(env.sandbox.requests().filter((r) => r.at >= t0));
    const mismatches = await verifyEnv(env);
    const ops = Math.max(1, planned.planned);
    const cost = (ms: number) => `${(ms / ops).toFixed(2)} ms (${Math.round((ms / elapsed) * 100)} %)`;
    const perJob = (a: number, b: number) => Math.round((b - a) / ops);
    const problems = [...(mismatches.length > 0 ? [describeMismatches(mismatches)] : []), ...(result.failed > 0 ? [`${result.failed} operations failed`] : [])];
    const opsPerSecond = (planned.planned / elapsed) * 1000;
    return {
      ...base,
      calls: calls.calls,
      wallMs: planned.planMs + elapsed,
      perMinute: drained.acceptedPerMinute,
      p50: null,
      p95: null,
      rssMb: usage.maxRssMb,
      notes: [
        `${Math.round(opsPerSecond)} operations/s over the drain, ${(elapsed / 1000).toFixed(1)} s (target ≥ 500: ${opsPerSecond >= 500 ? 'met' : 'MISSED'})`,
        `worker event-loop delay p50 ${usage.lagP50Ms.toFixed(1)} ms, p99 ${usage.lagP99Ms.toFixed(1)} ms, worst block ${usage.lagMaxMs.toFixed(0)} ms`,
        `plan ${(planned.planMs / 1000).toFixed(1)} s with ${calls.lists} lists; drain ${drained.writes} writes, ${drained.tokens} token`,
        `CPU per operation (and share of one core over the drain): workers ${cost(workerCpu)}, PostgreSQL backends ${cost(pgCpu)}, Redis ${cost(redisCpu)}, bench+sandbox ${cost(sandboxCpu)}; ${Math.round(((workerCpu + pgCpu + redisCpu + sandboxCpu) / elapsed / cpus().length) * 100)} % of ${cpus().length} cores busy`,
        `Redis per queued job: ${perJob(before.prefixBytes, after.prefixBytes)} B by MEMORY USAGE of the prefix's keys, ${perJob(before.usedMemory, after.usedMemory)} B by INFO used_memory (${planned.planned} jobs)`,
        ...problems,
      ].join('; '),
      ok: problems.length === 0,
    };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
