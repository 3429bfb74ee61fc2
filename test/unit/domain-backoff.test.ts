import { describe, expect, it } from '@jest/globals';
import { ChektCancelledError, ChektRateLimitedError, ChektServerError } from '../../src/chekt/errors/index.js';
import { backoffDelayMs } from '../../src/domain/backoff.js';
import { createBackoffStrategy } from '../../src/queue/backoff.js';

const policy = { baseMs: 2000, capMs: 60_000 };

describe('backoffDelayMs (capped exponential, full jitter)', () => {
  it('the window doubles per attempt from the base and stops at the cap', () => {
    const top = () => 0.999999999;
    expect([1, 2, 3, 4, 5, 6, 7, 50, 5000].map((n) => backoffDelayMs(n, policy, top))).toEqual([2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
  });

  it('full jitter: anywhere from 0 to the window', () => {
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(4000);
    expect(backoffDelayMs(1_000_000, policy, () => 0.25)).toBe(15000);
  });

  it('a floor (Retry-After) wins over a shorter draw, and attempts below 1 count as 1', () => {
    expect(backoffDelayMs(1, policy, () => 0, 45_000)).toBe(45_000);
    expect(backoffDelayMs(0, policy, () => 0.999999999)).toBe(2000);
  });

  it('a cap below the base makes every window the cap', () => {
    expect(backoffDelayMs(1, { baseMs: 5000, capMs: 1000 }, () => 0.999999999)).toBe(1000);
  });
});

describe('createBackoffStrategy (BullMQ settings.backoffStrategy)', () => {
  const job = { opts: { backoff: { type: 'capped-full-jitter', delay: 100 } } } as never;
  const strategy = createBackoffStrategy(1000, () => 0.999999999);
  const server = new ChektServerError({ endpoint: 'POST contacts', status: 503 });

  it('uses the job backoff.delay as base and the worker cap', () => {
    expect([1, 2, 3, 4, 5, 99].map((n) => strategy(n, 'capped-full-jitter', server, job))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('a 429 waits at least its Retry-After; a job cut by shutdown is retried at once', () => {
    const limited = new ChektRateLimitedError({ endpoint: 'POST contacts', status: 429, retryAfterMs: 5000 });
    expect(createBackoffStrategy(1000, () => 0)(1, 'capped-full-jitter', limited, job)).toBe(5000);
    expect(strategy(7, 'capped-full-jitter', new ChektCancelledError({ endpoint: 'POST contacts' }), job)).toBe(0);
  });
});
