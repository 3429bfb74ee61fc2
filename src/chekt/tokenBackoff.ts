import { ChektTokenError } from './errors/index.js';

/** Default first wait after a failed token request, in ms (config `CHEKT_TOKEN_BACKOFF_MS`). */
export const DEFAULT_TOKEN_BACKOFF_MS = 2_000;
/** Default longest wait between failed token requests, in ms (config `CHEKT_TOKEN_BACKOFF_MAX_MS`). */
export const DEFAULT_TOKEN_BACKOFF_MAX_MS = 60_000;

/** Options of {@link TokenBackoff}. Times in ms. */
export interface TokenBackoffOptions {
  /** First wait; doubles per failure in a row. Default {@link DEFAULT_TOKEN_BACKOFF_MS}. */
  readonly baseMs?: number;
  /** Longest wait. Default {@link DEFAULT_TOKEN_BACKOFF_MAX_MS}. */
  readonly maxMs?: number;
  /** Random source in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * The wait between token requests after transient failures (docs/CHEKT-AUTH-AND-IDS.md, "Backoff"): after the
 * n-th transient failure in a row, no request for `min(maxMs, baseMs × 2^(n−1))`, half of it fixed and half
 * random ("equal jitter": the waits really grow, and processes spread out). A success or a non-transient
 * failure clears it. Holds no timer: the caller asks {@link blocked} before each request.
 */
export class TokenBackoff {
  readonly #options: TokenBackoffOptions;
  #streak = 0;
  #retryAt = 0;
  #last: ChektTokenError | undefined;

  constructor(options: TokenBackoffOptions = {}) {
    this.#options = options;
  }

  /**
   * The error to give a caller now instead of sending a request, or undefined when a request may go.
   * The error is retryable and says how long until the next request and what failed last.
   */
  blocked(nowMs: number): ChektTokenError | undefined {
    const last = this.#last;
    if (!last || nowMs >= this.#retryAt) return undefined;
    return new ChektTokenError({
      status: last.status,
      code: last.code ?? 'token_backoff',
      transient: true,
      detail: `not retried for ${Math.ceil((this.#retryAt - nowMs) / 1000)} s after ${this.#streak} failed token request(s) in a row; last: ${last.message}`,
    });
  }

  /** Records the outcome of a token request: `undefined` for a success, else its error. */
  record(err: ChektTokenError | undefined, nowMs: number): void {
    if (!err?.retryable) {
      this.#streak = 0;
      this.#last = undefined;
      return;
    }
    this.#streak += 1;
    const full = Math.min(this.#options.maxMs ?? DEFAULT_TOKEN_BACKOFF_MAX_MS, (this.#options.baseMs ?? DEFAULT_TOKEN_BACKOFF_MS) * 2 ** Math.min(this.#streak - 1, 30));
    this.#retryAt = nowMs + full / 2 + (this.#options.random ?? Math.random)() * (full / 2);
    this.#last = err;
  }
}
