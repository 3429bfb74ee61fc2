import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { deleteKeysWithPrefix } from '../../src/queue/connection.js';
import { startSandbox } from '../../src/sandbox/server.js';
import { recreateDatabase } from './env.js';

/**
 * `npm run bench:startup [-- --runs 5]`: start-up time and idle memory of the service, compiled (`node
 * dist/main.js`, what `npm start` and the image run) against TypeScript through tsx (`npm run dev`), measured
 * alternately on the same database, Redis and sandbox so machine load hits both alike. Prints a Markdown
 * table (docs/BENCHMARKS.md "Start-up and memory"):
 * - start-up: spawn until `GET /healthz` answers 200 (migrations checked, connections made, workers and job
 *   schedulers started, HTTP listening);
 * - idle RSS: resident memory 5 s after start-up with nothing to do (/proc/<pid>/status VmRSS);
 * - `status --json`: wall time and peak RSS (GNU time's %M) of one `npm run status -- --json` equivalent.
 * Needs `npm run build` first; BENCH_PG_URL / BENCH_REDIS_URL as `npm run bench`.
 */

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Math.max(1, Number(args.runs) || 5);
const pgAdminUrl = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = 'chekt-sync-bench-startup';

const variants = {
  compiled: { service: ['dist/main.js'], status: ['dist/cli/status.js'] },
  tsx: { service: ['--import', 'tsx', 'src/main.ts'], status: ['--import', 'tsx', 'src/cli/status.ts'] },
} as const;
type Variant = keyof typeof variants;

const databaseUrl = await recreateDatabase(pgAdminUrl, 'chekt_contact_sync_bench_startup');
const sandbox = await startSandbox({ autoCreateSites: true });
const samples: Record<Variant, { startMs: number[]; idleRssMb: number[]; statusMs: number[]; statusRssMb: number[] }> = {
  compiled: { startMs: [], idleRssMb: [], statusMs: [], statusRssMb: [] },
  tsx: { startMs: [], idleRssMb: [], statusMs: [], statusRssMb: [] },
};
try {
  for (let i = 0; i < runs; i++) {
    for (const variant of (i % 2 === 0 ? ['compiled', 'tsx'] : ['tsx', 'compiled']) as Variant[]) {
      await deleteKeysWithPrefix(redisUrl, PREFIX);
      const s = await startOnce(variant);
      samples[variant].startMs.push(s.startMs);
      samples[variant].idleRssMb.push(s.idleRssMb);
      const st = statusOnce(variant);
      samples[variant].statusMs.push(st.ms);
      samples[variant].statusRssMb.push(st.rssMb);
      process.stderr.write(`[startup] run ${i + 1}/${runs} ${variant}: start ${s.startMs} ms, idle RSS ${s.idleRssMb.toFixed(0)} MB, status ${st.ms} ms / ${st.rssMb.toFixed(0)} MB\n`);
    }
  }
} finally {
  await sandbox.close();
  await deleteKeysWithPrefix(redisUrl, PREFIX);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[], digits = 0) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
console.log(
  `Start-up and idle memory, median (min–max) of ${runs} runs each, alternating; Node ${process.version}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`,
);
console.log('| runtime | service start-up to /healthz (ms) | service idle RSS (MB) | `status --json` wall (ms) | `status --json` peak RSS (MB) |');
console.log('|---|---|---|---|---|');
for (const v of ['tsx', 'compiled'] as Variant[]) {
  const s = samples[v];
  console.log(`| ${v === 'tsx' ? 'tsx (`npm run dev`, before)' : 'compiled (`npm start`, after)'} | ${range(s.startMs)} | ${range(s.idleRssMb)} | ${range(s.statusMs)} | ${range(s.statusRssMb)} |`);
}
process.exit(0);

function env(port: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    ENV_FILE: '/dev/null',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: PREFIX,
    CHEKT_API_URL: sandbox.url,
    CHEKT_CLIENT_ID: 'sandbox-client',
    CHEKT_CLIENT_SECRET: 'sandbox-secret',
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    ADMIN_USER: 'ops',
    ADMIN_PASSWORD: 'a-long-admin-password',
    SYNC_INTERVAL_SECONDS: '86400',
    LOG_LEVEL: 'warn',
  };
}

async function startOnce(variant: Variant): Promise<{ startMs: number; idleRssMb: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [...variants[variant].service], { env: env(port), stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${variant} service exited with ${child.exitCode} before answering /healthz`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (performance.now() - t0 > 60_000) throw new Error(`${variant} service did not answer /healthz within 60 s`);
      await sleep(10);
    }
    const startMs = Math.round(performance.now() - t0);
    await sleep(5000);
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
    return { startMs, idleRssMb: Number(rss) / 1024 };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

function statusOnce(variant: Variant): { ms: number; rssMb: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...variants[variant].status, '--json'], { env: env(0), encoding: 'utf8' });
  const ms = Math.round(performance.now() - t0);
  if (r.status !== 0) throw new Error(`${variant} status exited with ${r.status}: ${r.stderr}`);
  const kb = Number(r.stderr.trim().split('\n').at(-1));
  return { ms, rssMb: kb / 1024 };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      server.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
