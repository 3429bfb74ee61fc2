import { describe, expect, test } from '@jest/globals';
import { Writable } from 'node:stream';
import { createProgress, createRateMeter, formatProgressLine } from '../../src/cli/progress.js';

/** `npm run sync`'s progress when stderr is not a terminal: plain lines, at most one per interval. */

function sink(): { stream: Writable & { isTTY?: boolean }; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('progress without a terminal', () => {
  test('prints a plain line at most every interval, and the final counts on stop', () => {
    let t = 0;
    const out = sink();
    const p = createProgress({ stream: out.stream, total: 40, intervalMs: 2000, now: () => t });
    p.update({ done: 0, failed: 0, total: 40 });
    t = 500;
    p.update({ done: 5, failed: 0, total: 40 });
    t = 1900;
    p.update({ done: 9, failed: 1, total: 40 });
    t = 2000;
    p.update({ done: 12, failed: 1, total: 40, callsPerMinute: 95.6 });
    t = 3000;
    p.update({ done: 40, failed: 2, total: 40 });
    p.stop();
    p.stop();
    p.update({ done: 40, failed: 2, total: 40 });
    expect(out.lines()).toEqual([
      'progress: 0/40 operations finished, 0 failed',
      'progress: 12/40 operations finished, 1 failed, 360 operations/min, 96 CHeKT calls/min',
      'progress: 40/40 operations finished, 2 failed, 800 operations/min',
    ]);
    // No ANSI escape codes in a log.
    expect(out.lines().join('')).not.toMatch(/\u001b/);
  });

  test('stop() prints nothing more when the last line already shows the final counts', () => {
    let t = 0;
    const out = sink();
    const p = createProgress({ stream: out.stream, total: 3, now: () => t });
    p.update({ done: 3, failed: 0, total: 3 });
    t = 100;
    p.stop();
    expect(out.lines()).toEqual(['progress: 3/3 operations finished, 0 failed']);
  });

  test('stop() without any update prints nothing', () => {
    const out = sink();
    createProgress({ stream: out.stream, total: 3 }).stop();
    expect(out.lines()).toEqual([]);
  });

  test('the line names each part', () => {
    expect(formatProgressLine({ done: 1, failed: 0, total: 2 }, null)).toBe('progress: 1/2 operations finished, 0 failed');
    expect(formatProgressLine({ done: 1, failed: 0, total: 2, callsPerMinute: 0 }, 30)).toBe('progress: 1/2 operations finished, 0 failed, 30 operations/min, 0 CHeKT calls/min');
  });
});

test('the rate meter turns a growing counter into a per-minute rate over its window', () => {
  let t = 0;
  const meter = createRateMeter({ windowMs: 10_000, now: () => t });
  expect(meter(0)).toBe(0);
  t = 1000;
  expect(meter(10)).toBe(600);
  t = 20_000;
  expect(meter(10)).toBe(0); // nothing since the baseline, the last sample at least 10 s old (t = 1 s)
  t = 21_000;
  expect(meter(16)).toBeCloseTo(18, 5); // 6 calls over the 20 s since that baseline
  t = 31_000;
  expect(meter(26)).toBeCloseTo(60, 5); // baseline moved to t = 21 s (the last sample >= 10 s old): 10 calls in 10 s
});
