import { spawn, type ChildProcess } from 'node:child_process';

/** Runs a TypeScript entry point with tsx in a child process, as `npm run …` would. */
export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}


/** Environment for children: PATH and HOME only, plus `env` (nothing leaks in from the test process). */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env };
}

/**
 * Starts `node --import tsx <entry> <args>` (what the npm scripts exec, so the child's pid is the program's own
 * and a SIGKILL reaches it; the `tsx` CLI would run the program in a second process), or with `npm: true`,
 * `npm run <entry> -- <args>`. Wait with {@link waitExit}.
 */
export function start(entry: string, args: string[], env: Record<string, string>, opts: { npm?: boolean } = {}): ChildProcess & { out: string[]; err: string[] } {
  const [cmd, argv] = opts.npm ? ['npm', ['run', '--silent', entry, '--', ...args]] : [process.execPath, ['--import', 'tsx', entry, ...args]];
  const child = spawn(cmd, argv, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & { out: string[]; err: string[] };
  child.out = [];
  child.err = [];
  child.stdout?.on('data', (d: Buffer) => child.out.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => child.err.push(d.toString()));
  return child;
}

/** Waits for a child to exit (SIGKILL after `timeoutMs`, default 60 s). */
export function waitExit(child: ChildProcess & { out: string[]; err: string[] }, timeoutMs = 60_000): Promise<Finished> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, stdout: child.out.join(''), stderr: child.err.join('') }));
    });
  });
}

/** Runs to completion. */
export function run(entry: string, args: string[], env: Record<string, string>, timeoutMs?: number): Promise<Finished> {
  return waitExit(start(entry, args, env), timeoutMs);
}
