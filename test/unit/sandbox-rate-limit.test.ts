import { RateLimiter, TokenBucket, defaultBurst } from '../../src/sandbox/rateLimit.js';

/** A clock the test moves by hand (epoch ms). */
function fakeClock(start = 1_800_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('defaultBurst', () => {
  it('is five seconds of the per-minute rate, at least 1 (CHeKT Free tier 60/min → 5)', () => {
    expect(defaultBurst(60)).toBe(5);
    expect(defaultBurst(600)).toBe(50);
    expect(defaultBurst(3000)).toBe(250);
    expect(defaultBurst(6)).toBe(1);
    expect(defaultBurst(1)).toBe(1);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then refuses with Retry-After until a token refills', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ perMinute: 60, burst: 3, now: clock.now });
    expect([bucket.take(), bucket.take(), bucket.take()].map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
    ]);
    const refused = bucket.take();
    expect(refused).toEqual({
      allowed: false,
      limit: 60,
      remaining: 0,
      resetAtSeconds: Math.ceil((clock.now() + 3000) / 1000),
      retryAfterSeconds: 1,
    });
    clock.advance(999);
    expect(bucket.take().allowed).toBe(false);
    clock.advance(1);
    expect(bucket.take()).toMatchObject({ allowed: true, remaining: 0, retryAfterSeconds: 0 });
  });

  it('rounds Retry-After up to whole seconds for slow rates', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ perMinute: 6, burst: 1, now: clock.now }); // one token per 10 s
    expect(bucket.take().allowed).toBe(true);
    expect(bucket.take().retryAfterSeconds).toBe(10);
    clock.advance(2500);
    expect(bucket.take().retryAfterSeconds).toBe(8); // 7.5 s left → 8
  });

  it('never refills beyond the burst', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ perMinute: 60, burst: 2, now: clock.now });
    clock.advance(3_600_000);
    expect(bucket.take().remaining).toBe(1);
    expect(bucket.take().remaining).toBe(0);
    expect(bucket.take().allowed).toBe(false);
  });

  it('reports X-RateLimit-Reset as the second the bucket is full again', () => {
    const clock = fakeClock(1_800_000_000_500);
    const bucket = new TokenBucket({ perMinute: 120, burst: 4, now: clock.now }); // 2 tokens/s
    bucket.take();
    bucket.take();
    // 2 tokens missing → full in 1 s → 1_800_000_001.5 s → ceil 1_800_000_002
    expect(bucket.take().resetAtSeconds).toBe(1_800_000_002);
  });

  it('absorbs float error: refills that sum to exactly one token allow the request', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ perMinute: 1, burst: 1, now: clock.now });
    expect(bucket.take().allowed).toBe(true);
    // 27 + 59097 + 876 ms = 60 s, but the three float refills sum to 0.9999999999999999.
    clock.advance(27);
    expect(bucket.take().allowed).toBe(false);
    clock.advance(59_097);
    expect(bucket.take().allowed).toBe(false);
    clock.advance(876);
    expect(bucket.take().allowed).toBe(true);
  });

  it('rejects nonsense settings', () => {
    const { now } = fakeClock();
    expect(() => new TokenBucket({ perMinute: 0, burst: 1, now })).toThrow(RangeError);
    expect(() => new TokenBucket({ perMinute: 60, burst: 0, now })).toThrow(RangeError);
  });
});

describe('RateLimiter', () => {
  it('answers undefined (no headers, no 429) when unlimited', () => {
    const limiter = new RateLimiter({ perMinute: 0, now: fakeClock().now });
    for (let i = 0; i < 1000; i += 1) expect(limiter.take('a')).toBeUndefined();
  });

  it('keeps one bucket per client, default burst from the rate', () => {
    const limiter = new RateLimiter({ perMinute: 60, now: fakeClock().now });
    expect(limiter.settings).toEqual({ perMinute: 60, burst: 5 });
    for (let i = 0; i < 5; i += 1) expect(limiter.take('a')?.allowed).toBe(true);
    expect(limiter.take('a')?.allowed).toBe(false);
    expect(limiter.take('b')?.allowed).toBe(true);
  });

  it('refills every bucket on configure and reset', () => {
    const limiter = new RateLimiter({ perMinute: 60, burst: 1, now: fakeClock().now });
    limiter.take('a');
    expect(limiter.take('a')?.allowed).toBe(false);
    limiter.reset();
    expect(limiter.take('a')?.allowed).toBe(true);
    limiter.configure(120, 2);
    expect(limiter.settings).toEqual({ perMinute: 120, burst: 2 });
    expect(limiter.take('a')).toMatchObject({ allowed: true, limit: 120, remaining: 1 });
    expect(() => limiter.configure(-1)).toThrow(RangeError);
    expect(() => limiter.configure(60, 0)).toThrow(RangeError);
  });
});
