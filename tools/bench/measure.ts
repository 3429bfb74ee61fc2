import type { Mismatch } from '../demo/verify.js';
import { serviceEnv, type BenchEnv, type BenchServers, type ServiceSettings } from './env.js';
import type { RunResult, Usage } from './protocol.js';
import { spawnService, type ServiceProcess, type ServiceRole } from './service.js';
import { summarizeCalls, type CallSummary } from './stats.js';
import type { Row } from './table.js';
import { describeMismatches, verifyEnv } from './verify.js';

/**
 * Measures one run the way an operator would see it: fresh service processes (so peak RSS and CPU are this
 * run's), the sandbox's request log reset just before the run, and the correctness check just after.
 */

/** What every scenario needs. */
export interface BenchContext {
  readonly servers: BenchServers;
  /** A progress line on stderr. */
  progress(message: string): void;
  /** With `--profile <dir>`: every service process writes a V8 CPU profile there (`--cpu-prof`). */
  readonly profileDir?: string | undefined;
  /** Run the service processes from the compiled build (dist/, as production does; default) or the TypeScript through tsx. */
  readonly runtime?: 'compiled' | 'source' | undefined;
}

/** One measured run. */
export interface Measured {
  readonly result: RunResult;
  /** The largest peak RSS among the run's processes; CPU summed over them. */
  readonly usage: Usage;
  readonly calls: CallSummary;
  readonly mismatches: Mismatch[];
}

/** Starts `count` service processes against `env` (in parallel) and resolves once all are ready. */
export async function spawnServices(ctx: BenchContext, env: BenchEnv, settings: ServiceSettings, count: number, role: ServiceRole = { workers: true, scheduler: false }): Promise<ServiceProcess[]> {
  const envVars = serviceEnv(ctx.servers, env, settings);
  return Promise.all(Array.from({ length: count }, () => spawnService(envVars, role, { profileDir: ctx.profileDir, runtime: ctx.runtime })));
}

/** Stops the processes; returns the largest peak RSS and the summed CPU time. */
export async function stopServices(services: readonly ServiceProcess[]): Promise<Usage> {
  const usages = await Promise.all(services.map((s) => s.stop()));
  return {
    maxRssMb: Math.max(...usages.map((u) => u.maxRssMb)),
    cpuMs: usages.reduce((n, u) => n + u.cpuMs, 0),
    lagP50Ms: Math.max(...usages.map((u) => u.lagP50Ms)),
    lagP99Ms: Math.max(...usages.map((u) => u.lagP99Ms)),
    lagMaxMs: Math.max(...usages.map((u) => u.lagMaxMs)),
  };
}

/**
 * Plans one run in `mode` in the first of `processes` fresh service processes, waits until every operation
 * finished (any process's workers), then checks CHeKT against the CRM.
 */
export async function measureRun(ctx: BenchContext, env: BenchEnv, settings: ServiceSettings, mode: 'changes' | 'reconcile', processes = 1): Promise<Measured> {
  const services = await spawnServices(ctx, env, settings, processes);
  env.sandbox.resetStats();
  let result: RunResult;
  try {
    result = await services[0]!.run(mode);
  } catch (err) {
    await stopServices(services).catch(() => undefined);
    throw err;
  }
  const usage = await stopServices(services);
  const calls = summarizeCalls(env.sandbox.requests());
  const mismatches = await verifyEnv(env);
  return { result, usage, calls, mismatches };
}

/** The row fields every measured run fills the same way. */
export function measuredRow(base: Pick<Row, 'scenario' | 'mode' | 'contacts' | 'sites' | 'changes' | 'ideal' | 'limit'>, m: Measured, extraNotes: readonly string[] = []): Row {
  const c = m.calls;
  const problems = [
    ...(m.mismatches.length > 0 ? [describeMismatches(m.mismatches)] : []),
    ...(m.result.failed > 0 ? [`${m.result.failed} operations failed`] : []),
    ...(m.result.held > 0 ? [`${m.result.held} deletes held`] : []),
  ];
  const split = [`${c.tokens} token`, `${c.lists} lists`, `${c.writes} writes`, ...(c.gets > 0 ? [`${c.gets} GETs`] : []), ...(c.rateLimited > 0 ? [`${c.rateLimited} × 429`] : [])];
  return {
    ...base,
    calls: c.calls,
    wallMs: m.result.wallMs,
    perMinute: c.acceptedPerMinute,
    ...(c.firstAt !== null && c.lastAt !== null ? { rateSpanMs: c.lastAt - c.firstAt } : {}),
    p50: null,
    p95: null,
    rssMb: m.usage.maxRssMb,
    notes: [split.join(', '), `plan ${(m.result.planMs / 1000).toFixed(1)} s`, `worst event-loop block ${Math.round(m.usage.lagMaxMs)} ms`, ...extraNotes, ...problems].join('; '),
    ok: problems.length === 0,
  };
}
