import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll } from '@jest/globals';
import { Redis } from 'ioredis';
import { pollUntil } from './convergence.js';
import { testEnv, type Harness } from './harness.js';
import { freePort } from './local-server.js';
import { start } from './spawn.js';

export { freePort };

/**
 * Processes the fault tests start and kill themselves: entry points run by node itself (spawn.ts), a private
 * `redis-server` (so a test can kill -9 and restart Redis without touching the shared one), and free TCP ports.
 */

/** A child started by {@link startNode}: its stdout and stderr chunks collected in `out` and `err`. */
export type Child = ChildProcess & { out: string[]; err: string[] };

/** Starts `<entry> <args>` (spawn.ts `start`: compiled for `src/` entries); wait with spawn.ts's `waitExit`. */
export function startNode(entry: string, env: Record<string, string>, args: string[] = []): Child {
  return start(entry, args, env);
}

/** True while `child` runs: it has neither exited nor been ended by a signal. */
export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Ends `child` with SIGKILL unless it already ended (a stopped child gets SIGCONT first). */
export function killIfRunning(child: ChildProcess): void {
  if (!isRunning(child)) return;
  child.kill('SIGCONT');
  child.kill('SIGKILL');
}

/** The children a test file starts, each killed (if still running) after the file's tests. Call at top level. */
export function useChildren(): Child[] {
  const children: Child[] = [];
  afterAll(() => children.forEach(killIfRunning));
  return children;
}

/**
 * Starts test/integration/support/worker-entry.ts (the app's operation workers) with the harness's environment and
 * `env` over it, adds it to `children`, and waits (up to 30 s) until it is connected: its "worker ready" line and
 * one more worker on the operations queue.
 */
export async function startWorkerProcess(h: Harness, env: Record<string, string>, children: Child[]): Promise<Child> {
  const before = await h.app.countOperationWorkers();
  const child = startNode('test/integration/support/worker-entry.ts', testEnv(h.sandbox, h.databaseUrl, h.prefix, env));
  children.push(child);
  await pollUntil('the worker process to connect', async () => child.out.join('').includes('"msg":"worker ready"') && (await h.app.countOperationWorkers()) > before, {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  return child;
}

/** A `redis-server` child without persistence: a restart comes back empty. */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Starts it (again) on the same port and resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGKILL (as a crash would) and wait until the process is gone. No-op when not running. */
  kill(): Promise<void>;
  /** Keys in the current server (0 right after a restart). */
  dbsize(): Promise<number>;
}

/** Creates (does not start) a private Redis on a free port; `extraArgs` go to `redis-server` (e.g. `--maxmemory-policy volatile-lru`). */
export async function privateRedis(extraArgs: readonly string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const ping = async (): Promise<boolean> => {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  };
  return {
    port,
    url,
    async start() {
      const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', '', ...extraArgs], { stdio: 'ignore' });
      child = proc;
      for (let i = 0; i < 100; i++) {
        if (await ping()) return;
        if (proc.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${proc.exitCode}`);
        await sleep(50);
      }
      throw new Error(`redis-server on port ${port} did not answer PING within 5 s`);
    },
    async kill() {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGKILL');
      await gone;
    },
    async dbsize() {
      const r = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        return await r.dbsize();
      } finally {
        r.disconnect();
      }
    },
  };
}

/** Environment of a spawned `src/main.ts` for fault tests: 4 workers, no tick for an hour, HTTP on `port`. */
export function serviceEnv(base: Record<string, string>, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...base,
    WORKER_CONCURRENCY: '4',
    SYNC_INTERVAL_SECONDS: '3600',
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    ADMIN_USER: 'ops',
    ADMIN_PASSWORD: 'a-long-admin-password',
    LOG_LEVEL: 'info',
    ...extra,
  };
}
