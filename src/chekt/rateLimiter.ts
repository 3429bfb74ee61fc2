import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Gate in front of every CHeKT HTTP request. CHeKT counts requests per app/client, not per process or dealer
 * (docs/CHEKT-API.md#rate-limits), so the production limiter is shared by every worker through Redis.
 */
export interface RateLimiter {
  /**
   * Resolves when one request may be sent; waits (never rejects for being over the limit), except as
   * {@link AcquireOptions} say.
   * @throws {RateLimitPausedError} when a shared pause lasts longer than `maxWaitMs`.
   * @throws the signal's reason when `signal` aborts while waiting.
   */
  acquire(options?: AcquireOptions): Promise<void>;
  /**
   * Makes every `acquire()` sharing this limiter wait `ms` milliseconds from now (after a 429; docs/CHEKT-API.md#rate-limits).
   * A shorter pause never shortens a longer one already in place.
   */
  pause?(ms: number): Promise<void>;
  /**
   * Learns CHeKT's real limit from a response: `X-RateLimit-Limit` below the configured one lowers the shared
   * rate to it. Without that header, additive increase / multiplicative decrease (as TCP does): a 429 lowers
   * the rate by 20 % (at most once per 2 s), and 30 s without one raises it by 10 %, up to the configured
   * rate. A lowered rate is kept in Redis for {@link ADAPT_TTL_MS} and refreshed while CHeKT keeps saying so.
   */
  observe?(response: { readonly limitPerMinute: number | null; readonly rateLimited: boolean }): Promise<void>;
  /** The rate `acquire()` currently grants, per minute (the configured one unless lowered by `observe`). */
  currentPerMinute?(): number;
  /** Counters of this instance (this process only). */
  stats?(): RateLimiterStats;
}

/** Options of {@link RateLimiter.acquire}. */
export interface AcquireOptions {
  /**
   * Longest shared pause (after a 429) to wait out in place, in ms. A longer one throws
   * {@link RateLimitPausedError} instead, so a job can hand the wait back to its queue (docs/RETRIES.md "429").
   * Default: wait whatever it takes.
   */
  readonly maxWaitMs?: number;
  /** Stops waiting when aborted (the process is stopping). */
  readonly signal?: AbortSignal;
}

/** The shared pause (after a 429) lasts longer than the caller agreed to wait: `remainingMs` more. */
export class RateLimitPausedError extends Error {
  override readonly name = 'RateLimitPausedError';
  constructor(readonly remainingMs: number) {
    super(`CHeKT rate limit paused for ${Math.ceil(remainingMs / 1000)} s more (a 429's Retry-After)`);
  }
}

/** Counters of one limiter instance. */
export interface RateLimiterStats {
  /** `acquire()` calls that resolved. */
  readonly acquired: number;
  /** `acquire()` calls that had to wait at least once (rate limit or pause). */
  readonly waited: number;
  /** Total time callers spent waiting, in ms. */
  readonly waitedMs: number;
  /** `pause()` calls made through this instance. */
  readonly pauses: number;
}

/** Options of {@link createRedisRateLimiter}. */
export interface RedisRateLimiterOptions {
  /**
   * An ioredis client, one server or a cluster; the limiter does not close it. Every command touches one key
   * (no CROSSSLOT on a cluster).
   */
  readonly redis: Redis | Cluster;
  /** Redis key prefix shared by every process that talks to the same CHeKT client (e.g. `chekt-sync:chekt-rate`). */
  readonly key: string;
  /** CHeKT requests per minute across all processes (config `CHEKT_RATE_LIMIT_PER_MINUTE`, default 60). */
  readonly perMinute: number;
  /** Called after an `acquire()` that had to wait, with the wait in ms (metrics). Must not throw. */
  readonly onWait?: (ms: number) => void;
}

/** The fixed window the Redis limiter uses for a per-minute budget (exported for tests and docs). */
export interface RateWindow {
  /** Requests allowed per window. */
  readonly points: number;
  /** Window length, in seconds (whole seconds: rate-limiter-flexible's unit). */
  readonly durationSeconds: number;
}

/**
 * Turns a per-minute budget into a short fixed window so a burst never exceeds CHeKT's bucket (docs/CHEKT-API.md#rate-limits:
 * 60/min with burst 5/s, 600/min with 30/s, 3000/min with 200/s):
 * - `perMinute >= 60`: 1 s windows of `floor(perMinute / 60)` points;
 * - `perMinute < 60`: windows of `ceil(60 / perMinute)` s with 1 point.
 * Bound: at most `points` grants per window, so at most `2 × points` in any sliding second (two window edges)
 * and at most `perMinute + points` in any sliding minute; the long-run rate never exceeds `perMinute`
 * (rounding down: 90/min runs at 60/min). Each tier's burst allowance is well above `2 × perMinute / 60`.
 */
export function rateWindowFor(perMinute: number): RateWindow {
  if (!Number.isFinite(perMinute) || perMinute < 1) throw new RangeError(`perMinute must be >= 1, got ${perMinute}`);
  if (perMinute >= 60) return { points: Math.floor(perMinute / 60), durationSeconds: 1 };
  return { points: 1, durationSeconds: Math.ceil(60 / perMinute) };
}

/** How long a rate learned from CHeKT's answers stays in force without being confirmed again: 10 minutes. */
export const ADAPT_TTL_MS = 600_000;
/** Least time between two decreases after bare 429s (shared by every process): 2 s. */
const CUT_SPACING_MS = 2_000;
/** Time without a bare 429 before a lowered rate goes up by 10 % (shared by every process): 30 s. */
const RAISE_SPACING_MS = 30_000;
/**
 * How long one process trusts its last read of the shared pause: 100 ms. Concurrent `acquire()` calls share one
 * read, so at hundreds of calls per second the pause costs a few Redis round trips per second instead of one
 * per call (docs/BENCHMARKS.md "Unthrottled drain"); a pause set by another process is honoured within 100 ms,
 * well inside the second-long waits a 429 asks for. A pause set through this instance applies at once.
 */
const PAUSE_READ_MS = 100;

/** Lua: extend the shared pause to `ARGV[1]` ms unless a longer one is in place; the value is the epoch ms it ends. */
const PAUSE_SCRIPT = `
local ttl = redis.call('pttl', KEYS[1])
if ttl < tonumber(ARGV[1]) then
  redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[1])
end
return 1`;

/**
 * A limiter shared across processes through Redis (rate-limiter-flexible `RateLimiterRedis`, atomic Lua), using
 * the window from {@link rateWindowFor}. `acquire()` first honours the shared pause (read at most every
 * {@link PAUSE_READ_MS} per process), then consumes one point; when
 * the window is spent it sleeps `msBeforeNext` (plus up to 50 ms of jitter, so waiters do not stampede) and tries
 * again. Redis errors reject `acquire()` (the job fails and retries: sending without a limiter is worse).
 *
 * The pause lives at `${key}:paused-until`: its value is the epoch ms it ends (for people reading Redis), and its
 * TTL is what `acquire()` waits on, so clock skew between machines does not matter.
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const { redis, key } = options;
  const configured = options.perMinute;
  // One window limiter per rate in use; the configured one keeps the plain key.
  const limiters = new Map<number, RateLimiterRedis>();
  const limiterFor = (perMinute: number) => {
    let l = limiters.get(perMinute);
    if (!l) {
      const window = rateWindowFor(perMinute);
      l = new RateLimiterRedis({ storeClient: redis, keyPrefix: perMinute === configured ? key : `${key}:at-${perMinute}`, points: window.points, duration: window.durationSeconds });
      limiters.set(perMinute, l);
    }
    return l;
  };
  const pauseKey = `${key}:paused-until`;
  const learnedKey = `${key}:learned-per-minute`;
  const counters = newCounters(options.onWait);
  // The shared pause as last read (epoch ms it ends), and the read in flight, shared by concurrent callers.
  let pauseSeen = { endsAt: 0, readAt: Number.NEGATIVE_INFINITY };
  let pauseRead: Promise<void> | undefined;
  const pausedMs = async (): Promise<number> => {
    if (Date.now() - pauseSeen.readAt >= PAUSE_READ_MS) {
      pauseRead ??= redis.pttl(pauseKey).then(
        (ttl) => {
          const now = Date.now();
          pauseSeen = { endsAt: ttl > 0 ? now + ttl : 0, readAt: now };
          pauseRead = undefined;
        },
        (err: unknown) => {
          pauseRead = undefined;
          throw err;
        },
      );
      await pauseRead;
    }
    return Math.max(0, pauseSeen.endsAt - Date.now());
  };
  // The learned rate, read from Redis at most once a second per process.
  let learned = { perMinute: configured, readAt: 0, writtenAt: 0 };
  const effective = async () => {
    if (Date.now() - learned.readAt > 1000) {
      const v = Number(await redis.get(learnedKey));
      learned = { ...learned, perMinute: v >= 1 && v < configured ? v : configured, readAt: Date.now() };
    }
    return learned.perMinute;
  };

  async function acquire(opts: AcquireOptions = {}): Promise<void> {
    const started = Date.now();
    let waited = false;
    for (;;) {
      opts.signal?.throwIfAborted();
      const paused = await pausedMs();
      if (paused > 0) {
        if (opts.maxWaitMs !== undefined && paused > opts.maxWaitMs) throw new RateLimitPausedError(paused);
        waited = true;
        await sleep(paused, undefined, { signal: opts.signal });
        // Read the pause again after the wait: it may have been extended meanwhile.
        pauseSeen = { ...pauseSeen, readAt: Number.NEGATIVE_INFINITY };
        continue;
      }
      try {
        await limiterFor(await effective()).consume('all', 1);
        break;
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw e;
        waited = true;
        await sleep(Math.max(e.msBeforeNext, 1) + Math.floor(Math.random() * 50), undefined, { signal: opts.signal });
      }
    }
    counters.record(waited, Date.now() - started);
  }

  async function pause(ms: number): Promise<void> {
    const whole = Math.ceil(ms);
    if (!(whole > 0)) return;
    counters.pauses += 1;
    await redis.eval(PAUSE_SCRIPT, 1, pauseKey, String(whole), String(Date.now() + whole));
    pauseSeen = { endsAt: Math.max(pauseSeen.endsAt, Date.now() + whole), readAt: pauseSeen.readAt };
  }

  let lastRaiseTry = 0;
  async function observe(r: { limitPerMinute: number | null; rateLimited: boolean }): Promise<void> {
    const current = await effective();
    let next: number | null = null;
    if (r.limitPerMinute !== null && r.limitPerMinute >= 1 && r.limitPerMinute < configured) {
      next = Math.floor(r.limitPerMinute);
    } else if (r.limitPerMinute === null && r.rateLimited) {
      // Without CHeKT's figure: multiplicative decrease, at most once per CUT_SPACING_MS across processes (the
      // 429s of requests already in flight at the old rate say nothing new).
      if ((await redis.set(`${learnedKey}:cut`, '1', 'PX', CUT_SPACING_MS, 'NX')) !== 'OK') return;
      await redis.set(`${learnedKey}:quiet`, '1', 'PX', RAISE_SPACING_MS);
      next = Math.max(1, Math.floor(current * 0.8));
    } else if (r.limitPerMinute === null && current < configured && Date.now() - lastRaiseTry > 5_000) {
      // Additive increase: +10 % once per RAISE_SPACING_MS without a 429, back up to the configured rate.
      lastRaiseTry = Date.now();
      if ((await redis.set(`${learnedKey}:quiet`, '1', 'PX', RAISE_SPACING_MS, 'NX')) !== 'OK') return;
      next = Math.min(configured, Math.ceil(current * 1.1));
      if (next === configured) {
        await redis.del(learnedKey);
        learned = { perMinute: configured, readAt: Date.now(), writtenAt: Date.now() };
        return;
      }
    }
    if (next === null) return;
    // Write when the rate changes, or once a minute to keep a confirmed rate alive.
    if (next === current && Date.now() - learned.writtenAt < 60_000) return;
    await redis.set(learnedKey, String(next), 'PX', ADAPT_TTL_MS);
    learned = { perMinute: next, readAt: Date.now(), writtenAt: Date.now() };
  }

  return { acquire, pause, observe, currentPerMinute: () => learned.perMinute, stats: counters.snapshot };
}

/**
 * A limiter that never waits except for `pause()`, which is kept in this process only. For tests, the sandbox and
 * one-off CLI runs against a CHeKT with no meaningful limit. `onWait(ms)` as in {@link RedisRateLimiterOptions}.
 */
export function createUnlimitedRateLimiter(options: { onWait?: (ms: number) => void } = {}): RateLimiter {
  let pausedUntil = 0;
  const counters = newCounters(options.onWait);
  return {
    async acquire(opts: AcquireOptions = {}) {
      const started = Date.now();
      let waited = false;
      while (Date.now() < pausedUntil) {
        opts.signal?.throwIfAborted();
        if (opts.maxWaitMs !== undefined && pausedUntil - Date.now() > opts.maxWaitMs) throw new RateLimitPausedError(pausedUntil - Date.now());
        waited = true;
        await sleep(pausedUntil - Date.now(), undefined, { signal: opts.signal });
      }
      opts.signal?.throwIfAborted();
      counters.record(waited, Date.now() - started);
    },
    async pause(ms: number) {
      if (!(ms > 0)) return;
      counters.pauses += 1;
      pausedUntil = Math.max(pausedUntil, Date.now() + ms);
    },
    stats: counters.snapshot,
  };
}

function newCounters(onWait?: (ms: number) => void) {
  const c = {
    acquired: 0,
    waited: 0,
    waitedMs: 0,
    pauses: 0,
    record(didWait: boolean, ms: number) {
      c.acquired += 1;
      if (didWait) {
        c.waited += 1;
        c.waitedMs += ms;
        onWait?.(ms);
      }
    },
    snapshot: (): RateLimiterStats => ({ acquired: c.acquired, waited: c.waited, waitedMs: c.waitedMs, pauses: c.pauses }),
  };
  return c;
}
