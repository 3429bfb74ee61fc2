import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { PrismaClient } from '../../src/source/db.js';

/**
 * What a drain costs outside the service processes: CPU time of PostgreSQL and Redis (from /proc, Linux only)
 * and Redis memory under one key prefix.
 */

/** Kernel clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on). */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system, ms) of one process, from /proc/<pid>/stat; 0 when it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) / TICKS_PER_SECOND) * 1000;
  } catch {
    return 0;
  }
}

/** CPU time (ms) summed over every process whose command name is one of `names` (e.g. `postgres`). */
export function cpuMsByName(names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (comm in out) out[comm]! += processCpuMs(Number(pid));
  }
  return out;
}

/**
 * CPU time (ms) per PostgreSQL backend serving `database` now, keyed by pid: the bench's own database only, so
 * other users of the server do not count.
 */
export async function backendCpuMs(db: PrismaClient, database: string): Promise<Map<number, number>> {
  const rows = await db.$queryRaw<Array<{ pid: number }>>`SELECT pid FROM pg_stat_activity WHERE datname = ${database}`;
  return new Map(rows.map((r) => [r.pid, processCpuMs(r.pid)]));
}

/** CPU (ms) the backends used between two {@link backendCpuMs} readings (a backend new since `before` counts whole). */
export function backendCpuDelta(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let ms = 0;
  for (const [pid, cpu] of after) ms += cpu - (before.get(pid) ?? 0);
  return ms;
}

/** Redis memory: the server's `used_memory` and the bytes of the keys under one prefix (`MEMORY USAGE`). */
export interface RedisMemory {
  readonly usedMemory: number;
  readonly prefixBytes: number;
  readonly prefixKeys: number;
}

/** Reads {@link RedisMemory} for `${prefix}:*`. */
export async function redisMemory(redisUrl: string, prefix: string): Promise<RedisMemory> {
  const redis = new Redis(redisUrl);
  try {
    const info = await redis.info('memory');
    const usedMemory = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
    let prefixBytes = 0;
    let prefixKeys = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = redis.pipeline();
      for (const k of keys) pipeline.memory('USAGE', k, 'SAMPLES', '0');
      for (const [err, bytes] of (await pipeline.exec()) ?? []) if (!err) prefixBytes += Number(bytes ?? 0);
      prefixKeys += keys.length;
    } while (cursor !== '0');
    return { usedMemory, prefixBytes, prefixKeys };
  } finally {
    redis.disconnect();
  }
}
