import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchReply, BenchRequest, RunResult, Usage } from './protocol.js';

/**
 * The bench's handle on one service process (./worker.ts): forked from the compiled build (dist-bench/tools/bench/worker.js,
 * `tsc -p tsconfig.bench.json`, which `npm run bench` runs first), as production runs, or with `runtime: 'source'` as TypeScript through `node --import tsx`.
 * Its logs (stdout) go to the bench's stderr so stdout keeps only the table.
 */

/** What the process runs besides answering commands. */
export interface ServiceRole {
  /** Operation workers (and, with `scheduler`, the control worker). */
  readonly workers: boolean;
  /** Job schedulers and the CRM-change listener (near real time). */
  readonly scheduler: boolean;
}

/** A running service process. */
export interface ServiceProcess {
  readonly pid: number;
  run(mode: 'changes' | 'reconcile'): Promise<RunResult>;
  plan(mode: 'changes' | 'reconcile'): Promise<RunResult>;
  wait(planned: RunResult): Promise<RunResult>;
  loopStart(mode: 'changes' | 'reconcile'): Promise<void>;
  /** Ends the loop after its current pass; returns the passes made. */
  loopStop(): Promise<number>;
  /** Ordered shutdown; resolves with the process's peak RSS and CPU time once it exited. */
  stop(): Promise<Usage>;
}

const WORKER_SOURCE = fileURLToPath(new URL('./worker.ts', import.meta.url));
/**
 * The compiled worker (tsconfig.bench.json: the worker and the src/ modules it imports, compiled as
 * tsconfig.build.json compiles src/, into dist-bench/ so the image's dist/ carries no bench).
 */
const WORKER_COMPILED = WORKER_SOURCE.replace(/\/tools\/bench\/worker\.ts$/, '/dist-bench/tools/bench/worker.js');

/** Distributes Omit over the request union, so each command keeps its own fields. */
type Command = BenchRequest extends infer R ? (R extends BenchRequest ? Omit<R, 'id'> : never) : never;

/** Forks a service process and resolves once it is ready (workers connected, listener in place). */
export async function spawnService(
  env: Record<string, string>,
  role: ServiceRole,
  options: { profileDir?: string | undefined; runtime?: 'compiled' | 'source' | undefined } = {},
): Promise<ServiceProcess> {
  const profile = options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir] : [];
  const args = [...(role.workers ? ['--workers'] : []), ...(role.scheduler ? ['--scheduler'] : [])];
  const source = options.runtime === 'source';
  if (!source && !existsSync(WORKER_COMPILED)) throw new Error(`${WORKER_COMPILED} is missing: run \`npx tsc -p tsconfig.bench.json\` first (\`npm run bench\` does), or the bench with --source`);
  const child = fork(source ? WORKER_SOURCE : WORKER_COMPILED, args, {
    execArgv: [...(source ? ['--import', 'tsx'] : []), ...profile],
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.stdout?.pipe(process.stderr);
  const pending = new Map<number, { resolve: (r: BenchReply) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.on('message', (m: BenchReply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m);
    else p.reject(new Error(`service process ${child.pid}: ${m.error ?? 'failed'}`));
  });
  void exited.then((code) => {
    for (const p of pending.values()) p.reject(new Error(`service process ${child.pid} exited with code ${code}`));
    pending.clear();
  });
  const request = (cmd: Command): Promise<BenchReply> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ ...cmd, id } as BenchRequest);
    });
  await new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject });
  });
  return handle(child, request, exited);
}

function handle(child: ChildProcess, request: (cmd: Command) => Promise<BenchReply>, exited: Promise<number | null>): ServiceProcess {
  return {
    pid: child.pid ?? -1,
    run: async (mode) => (await request({ cmd: 'run', mode })).result as RunResult,
    plan: async (mode) => (await request({ cmd: 'plan', mode })).result as RunResult,
    wait: async (planned) => (await request({ cmd: 'wait', planned })).result as RunResult,
    loopStart: async (mode) => void (await request({ cmd: 'loopStart', mode })),
    loopStop: async () => ((await request({ cmd: 'loopStop' })).result as { passes: number }).passes,
    async stop() {
      const reply = await request({ cmd: 'stop' });
      await exited;
      return reply.usage!;
    },
  };
}
