/**
 * The Redis-backed rate limiter against the real Redis at 127.0.0.1:6379: two instances (as two worker
 * processes would) share one budget and one pause. Each test uses its own key prefix, deleted afterwards.
 * Timing assertions are lower bounds only (a slow machine can only make them pass more easily).
 */
import { Redis } from 'ioredis';
import { createRedisRateLimiter, type RateLimiter } from '../../src/chekt/rateLimiter.js';
import { queuePrefix } from './support/names.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
let a: Redis;
let b: Redis;
let prefix: string;

beforeAll(() => {
  a = new Redis(REDIS_URL, { lazyConnect: false });
  b = new Redis(REDIS_URL, { lazyConnect: false });
});
afterAll(async () => {
  await a.quit();
  await b.quit();
});
beforeEach(() => {
  prefix = queuePrefix('rate');
});
afterEach(async () => {
  const keys = await a.keys(`${prefix}*`);
  if (keys.length > 0) await a.del(...keys);
});

async function grantTimes(limiters: RateLimiter[], perLimiter: number): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(limiters.flatMap((l) => Array.from({ length: perLimiter }, () => l.acquire().then(() => void times.push(Date.now())))));
  return times.sort((x, y) => x - y);
}

describe('createRedisRateLimiter', () => {
  it('learns a lower real limit from X-RateLimit-Limit and shares it: 6000/min configured, 120/min learned', async () => {
    const l1 = createRedisRateLimiter({ redis: a, key: prefix, perMinute: 6000 });
    const l2 = createRedisRateLimiter({ redis: b, key: prefix, perMinute: 6000 });
    await l1.observe!({ limitPerMinute: 120, rateLimited: false });
    expect(l1.currentPerMinute!()).toBe(120);
    expect(await a.pttl(`${prefix}:learned-per-minute`)).toBeGreaterThan(590_000);
    const times = await grantTimes([l1, l2], 3);
    // 2 grants per 1 s window at 120/min (6000/min would grant 100 per window).
    expect(times[5]! - times[0]!).toBeGreaterThanOrEqual(1800);
    expect(l2.currentPerMinute!()).toBe(120);
  }, 30_000);

  it('a header at or above the configured rate changes nothing; without the header, a 429 lowers the rate by 20 % and quiet raises it by 10 %', async () => {
    const l = createRedisRateLimiter({ redis: a, key: prefix, perMinute: 600 });
    await l.observe!({ limitPerMinute: 3000, rateLimited: false });
    await l.observe!({ limitPerMinute: 600, rateLimited: true });
    expect(l.currentPerMinute!()).toBe(600);
    expect(await a.get(`${prefix}:learned-per-minute`)).toBeNull();
    await l.observe!({ limitPerMinute: null, rateLimited: true });
    expect(l.currentPerMinute!()).toBe(480);
    // A second 429 within 2 s (a request sent at the old rate) does not lower it again.
    await l.observe!({ limitPerMinute: null, rateLimited: true });
    expect(l.currentPerMinute!()).toBe(480);
    await a.del(`${prefix}:learned-per-minute:cut`);
    await l.observe!({ limitPerMinute: null, rateLimited: true });
    expect(l.currentPerMinute!()).toBe(384);
    expect(await a.get(`${prefix}:learned-per-minute`)).toBe('384');
    // 30 s without a 429 (the quiet marker expired): +10 %.
    await a.del(`${prefix}:learned-per-minute:quiet`);
    await l.observe!({ limitPerMinute: null, rateLimited: false });
    expect(l.currentPerMinute!()).toBe(423);
  });

  it('two instances sharing a key never grant more than 2 per 1 s window at 120/min', async () => {
    const l1 = createRedisRateLimiter({ redis: a, key: prefix, perMinute: 120 });
    const l2 = createRedisRateLimiter({ redis: b, key: prefix, perMinute: 120 });
    const times = await grantTimes([l1, l2], 5);
    expect(times).toHaveLength(10);
    // At most 2 grants per window, so any 5 consecutive grants span 3 windows: more than one full window apart.
    for (let i = 0; i + 4 < times.length; i++) expect(times[i + 4]! - times[i]!).toBeGreaterThanOrEqual(900);
    // 10 grants need at least 5 windows: the last is at least 4 full windows after the first.
    expect(times[9]! - times[0]!).toBeGreaterThanOrEqual(3600);
    const s1 = l1.stats!();
    const s2 = l2.stats!();
    expect(s1.acquired + s2.acquired).toBe(10);
    expect(s1.waited + s2.waited).toBeGreaterThanOrEqual(8);
    expect(s1.waitedMs + s2.waitedMs).toBeGreaterThan(0);
  }, 30_000);

  it('pause() on one instance makes the other wait, and a shorter pause does not shorten it', async () => {
    const l1 = createRedisRateLimiter({ redis: a, key: prefix, perMinute: 6000 });
    const l2 = createRedisRateLimiter({ redis: b, key: prefix, perMinute: 6000 });
    const before = Date.now();
    await l1.pause!(800);
    await l1.pause!(10);
    const until = Number(await a.get(`${prefix}:paused-until`));
    expect(until).toBeGreaterThanOrEqual(before + 800);
    const started = Date.now();
    await l2.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(l2.stats!()).toMatchObject({ acquired: 1, waited: 1 });
    expect(l1.stats!().pauses).toBe(2);
  });

  it('a burst of acquires reads the shared pause once per 100 ms; a pause set elsewhere is seen after that', async () => {
    let pttls = 0;
    const counted = new Proxy(a, { get: (target, prop, receiver) => (prop === 'pttl' && (pttls += 1), Reflect.get(target, prop, receiver)) });
    const l = createRedisRateLimiter({ redis: counted, key: prefix, perMinute: 600_000 });
    await Promise.all(Array.from({ length: 50 }, () => l.acquire()));
    expect(pttls).toBe(1);
    // Another process pauses: within 100 ms of the last read this one may not know yet; after it, it waits.
    await createRedisRateLimiter({ redis: b, key: prefix, perMinute: 600_000 }).pause!(600);
    await new Promise((r) => setTimeout(r, 120));
    const started = Date.now();
    await l.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(l.stats!()).toMatchObject({ acquired: 51, waited: 1 });
  });

  it('without contention acquire() does not wait', async () => {
    const l1 = createRedisRateLimiter({ redis: a, key: prefix, perMinute: 600 });
    for (let i = 0; i < 5; i++) await l1.acquire();
    expect(l1.stats!()).toMatchObject({ acquired: 5, waited: 0, waitedMs: 0 });
  });
});
