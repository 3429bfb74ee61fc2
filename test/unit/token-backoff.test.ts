import { describe, expect, test } from '@jest/globals';
import { ChektTokenError } from '../../src/chekt/errors/index.js';
import { TokenBackoff } from '../../src/chekt/tokenBackoff.js';

/** The wait between token requests after transient failures (docs/CHEKT-AUTH-AND-IDS.md#backoff-after-a-transient-failure): seconds, growing, jittered. */

const e503 = new ChektTokenError({ status: 503, detail: 'upstream' });

describe('TokenBackoff', () => {
  test('defaults: the n-th failure in a row blocks requests for [½, 1] × 2 s × 2^(n−1), capped at 60 s', () => {
    for (const r of [0, 0.999]) {
      const b = new TokenBackoff({ random: () => r });
      const waits: number[] = [];
      let now = 0;
      for (let n = 0; n < 7; n++) {
        b.record(e503, now);
        let t = now;
        while (b.blocked(t)) t += 10;
        waits.push(t - now);
        now = t;
      }
      const full = [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000];
      waits.forEach((w, i) => {
        expect(w).toBeGreaterThanOrEqual(full[i]! / 2);
        expect(w).toBeLessThanOrEqual(full[i]! + 10);
      });
    }
  });

  test('the blocking error is retryable and says how long and what failed; a success or a 401 clears it', () => {
    const b = new TokenBackoff({ random: () => 0.5 });
    expect(b.blocked(0)).toBeUndefined();
    b.record(e503, 0);
    expect(b.blocked(100)).toMatchObject({
      retryable: true,
      status: 503,
      message: expect.stringMatching(/not retried for 2 s after 1 failed token request\(s\) in a row; last: CHeKT POST token: token request failed, status 503 - upstream/),
    });
    b.record(undefined, 100);
    expect(b.blocked(101)).toBeUndefined();
    b.record(e503, 200);
    b.record(new ChektTokenError({ status: 401, code: 'invalid_client' }), 300);
    expect(b.blocked(301)).toBeUndefined();
  });
});
