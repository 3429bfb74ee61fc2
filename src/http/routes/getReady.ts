import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.js';
import { pingDatabase } from '../../source/db.js';
import { apiError } from '../errors.js';

/** The result of one readiness check: `ok`, or why not. */
export type CheckResult = 'ok' | 'timeout' | 'error' | 'stopping' | 'not_running';

/** Longest wait for PostgreSQL or Redis to answer, in ms (both are asked at once). */
export const READY_TIMEOUT_MS = 1000;

/**
 * `GET /readyz` (open, cheap: one `SELECT 1`, one `PING`, no CHeKT call): 200
 * `{status:'ready', checks:{postgres:'ok', redis:'ok', workers:'ok'}}` when PostgreSQL and Redis answer within
 * `timeoutMs` (default {@link READY_TIMEOUT_MS}) and this process's workers run and it is not stopping; else 503
 * with `status: 'not_ready'`, the failing check's value (`timeout`, `error`, `stopping`, `not_running`) and an
 * error envelope naming it. `/healthz` stays a liveness check that touches nothing.
 * Once the service runs its job schedulers, `checks` also holds `schedulers` (`missing`), `listener` (`down`) and
 * `redisPolicy` (the evicting policy's name) from `app.readiness()`, and `warnings` lists what does not fail
 * readiness (docs/OPERATIONS-FAULTS.md, "Readiness").
 */
export function getReady(server: FastifyInstance, app: App, timeoutMs = READY_TIMEOUT_MS): void {
  server.get('/readyz', async (_req, reply) => {
    let recovery: Awaited<ReturnType<App['readiness']>> = { checks: {}, warnings: [] };
    const [postgres, redis] = await Promise.all([
      probe(() => pingDatabase(app.db), timeoutMs),
      probe(() => app.redis.ping(), timeoutMs),
      probe(async () => (recovery = await app.readiness()), timeoutMs).then((r) => {
        if (r !== 'ok') recovery = { checks: { schedulers: r }, warnings: [] };
      }),
    ]);
    const checks: Record<string, string> = { postgres, redis, workers: workersCheck(app), ...recovery.checks };
    const warnings = recovery.warnings.length > 0 ? { warnings: recovery.warnings } : {};
    const failing = Object.entries(checks).filter(([, v]) => v !== 'ok');
    if (failing.length === 0) return { status: 'ready', checks, ...warnings };
    const message = failing.map(([k, v]) => `${k}: ${v}`).join('; ');
    return reply.code(503).send({ status: 'not_ready', checks, ...warnings, ...apiError('not_ready', message) });
  });
}

function workersCheck(app: App): CheckResult {
  if (app.stopping) return 'stopping';
  const running = app.workers.length > 0 && app.workers.every((w) => w.isRunning() && !w.closing);
  return running ? 'ok' : 'not_running';
}

/** Runs `fn`, answering `ok`, `error`, or `timeout` after `timeoutMs` (the call itself is left to finish). */
async function probe(fn: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    return await Promise.race([
      fn().then(
        (): CheckResult => 'ok',
        (): CheckResult => 'error',
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
