import { spawn, type ChildProcess } from 'node:child_process';

/** How a child process ended. */
export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Environment for children: PATH and HOME only, plus `env` (nothing leaks in from the test process). `ENV_FILE`
 * is /dev/null unless `env` sets it, so a developer's `.env` in the repository never reaches a test's child.
 */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ENV_FILE: '/dev/null', ...env };
}

/**
 * The command line of an entry point: a product entry under `src/` runs compiled, `node dist/<path>.js`, as the
 * npm scripts and the image run it (jest's globalSetup, test/support/build-dist.js, builds dist/ first); a
 * test-only entry (under `test/`) runs `node --import tsx <entry>`. Either way the child's pid is the program's
 * own, so a SIGKILL reaches it.
 */
export function nodeArgs(entry: string): string[] {
  const compiled = /^src\/(.+)\.ts$/.exec(entry);
  return compiled ? [`dist/${compiled[1]}.js`] : ['--import', 'tsx', entry];
}

/**
 * Starts {@link nodeArgs}`(entry)` with `args`, or with `npm: true`, `npm run <entry> -- <args>`. Wait with
 * {@link waitExit}.
 */
export function start(entry: string, args: string[], env: Record<string, string>, opts: { npm?: boolean } = {}): ChildProcess & { out: string[]; err: string[] } {
  const [cmd, argv] = opts.npm ? ['npm', ['run', '--silent', entry, '--', ...args]] : [process.execPath, [...nodeArgs(entry), ...args]];
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
