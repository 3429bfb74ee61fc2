import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../../src/logger.js';
import { createRunCompletion } from '../../src/sync/runCompletion.js';

/**
 * The gathered completion checks of a worker process (src/sync/runCompletion.ts): every run asked for is checked by
 * a check that starts after the request, checks are gathered into one call, a failed one is tried again, and
 * `flush` runs what is pending at once.
 */

const silent = createLogger('silent');
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fake `complete` that records each call's run ids and when it started. */
function recorder(fail = 0) {
  const calls: Array<{ ids: string[]; at: number }> = [];
  let failures = fail;
  const complete = async (ids: readonly string[]) => {
    calls.push({ ids: [...ids].sort(), at: Date.now() });
    await tick(5);
    if (failures > 0) {
      failures -= 1;
      throw new Error('database down');
    }
  };
  return { calls, complete };
}

describe('createRunCompletion', () => {
  it('gathers the runs asked for within the delay into one check, started after the requests', async () => {
    const r = recorder();
    const rc = createRunCompletion({ complete: r.complete, logger: silent, delayMs: 30 });
    const asked = Date.now();
    rc.checkLater(['b', 'a']);
    rc.checkLater(['a', 'c']);
    rc.checkLater([]);
    expect(r.calls).toEqual([]);
    await tick(80);
    expect(r.calls.map((c) => c.ids)).toEqual([['a', 'b', 'c']]);
    expect(r.calls[0]!.at).toBeGreaterThanOrEqual(asked);
    await tick(60);
    expect(r.calls).toHaveLength(1);
  });

  it('a run asked for while a check runs gets a check of its own after that one', async () => {
    const r = recorder();
    const rc = createRunCompletion({ complete: r.complete, logger: silent, delayMs: 10 });
    rc.checkLater(['a']);
    await tick(12); // the check for 'a' has started and takes 5 ms
    expect(r.calls.map((c) => c.ids)).toEqual([['a']]);
    const askedAgain = Date.now();
    rc.checkLater(['a', 'b']);
    await tick(60);
    expect(r.calls.map((c) => c.ids)).toEqual([['a'], ['a', 'b']]);
    expect(r.calls[1]!.at).toBeGreaterThanOrEqual(askedAgain);
  });

  it('a failed check is tried again after retryMs with the same runs', async () => {
    const r = recorder(1);
    const rc = createRunCompletion({ complete: r.complete, logger: silent, delayMs: 5, retryMs: 40 });
    rc.checkLater(['a']);
    await tick(25);
    expect(r.calls.map((c) => c.ids)).toEqual([['a']]);
    await tick(60);
    expect(r.calls.map((c) => c.ids)).toEqual([['a'], ['a']]);
    expect(r.calls[1]!.at - r.calls[0]!.at).toBeGreaterThanOrEqual(40);
  });

  it('flush runs the pending check at once and leaves nothing scheduled', async () => {
    const r = recorder();
    const rc = createRunCompletion({ complete: r.complete, logger: silent, delayMs: 10_000 });
    rc.checkLater(['a']);
    await rc.flush();
    expect(r.calls.map((c) => c.ids)).toEqual([['a']]);
    await rc.flush();
    expect(r.calls).toHaveLength(1);
  });

  it('flush after a failure tries once and does not throw', async () => {
    const r = recorder(5);
    const rc = createRunCompletion({ complete: r.complete, logger: silent, delayMs: 10_000, retryMs: 5 });
    rc.checkLater(['a']);
    await expect(rc.flush()).resolves.toBeUndefined();
    await tick(30);
    expect(r.calls).toHaveLength(1);
  });
});
