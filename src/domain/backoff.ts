/**
 * The delay before an operation job's next attempt after a transient failure (docs/RETRIES.md): capped
 * exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015):
 *
 *   delay = random(0 .. min(capMs, baseMs × 2^(attempt − 1)))
 *
 * Full jitter spreads the retries of many jobs that failed together (an outage) over the whole window, so a
 * recovering CHeKT is not hit by a wave, and the cap bounds how long after recovery the last job tries again.
 * Pure: the random source is passed in.
 */

/** Settings of {@link backoffDelayMs}, in ms. */
export interface BackoffPolicy {
  /** First window (config `SYNC_BACKOFF_MS`, default 2,000 ms). */
  readonly baseMs: number;
  /** Largest window (config `SYNC_BACKOFF_MAX_MS`, default 60,000 ms). */
  readonly capMs: number;
}

/**
 * The delay in ms before attempt `attempt + 1`, after `attempt` (1, 2, ...) failed attempts.
 * @param random a source of floats in [0, 1), e.g. `Math.random`.
 * @param atLeastMs a floor, e.g. a 429's `Retry-After` (default 0); the result never exceeds `max(capMs, atLeastMs)`.
 * @returns a whole number of ms in `[atLeastMs, max(atLeastMs, min(capMs, baseMs × 2^(attempt−1)))]`.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number, atLeastMs = 0): number {
  const n = Math.max(1, Math.floor(attempt));
  // 2^(n-1) overflows to Infinity for large n; Math.min keeps the cap.
  const window = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(n - 1, 1023));
  const delay = Math.floor(random() * (window + 1));
  return Math.max(Math.min(delay, window), Math.floor(atLeastMs));
}
