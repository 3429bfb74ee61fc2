import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * 429 Too Many Requests, thrown after the client's own Retry-After waits are used up (docs/CHEKT-API.md#rate-limits).
 * Retryable: the job should be delayed by at least `retryAfterMs` when known.
 */
export class ChektRateLimitedError extends ChektError {
  /** The last `Retry-After`, in ms (uncapped); `undefined` when CHeKT sent none or an unparsable one. */
  readonly retryAfterMs: number | undefined;

  constructor(init: ChektErrorInit & { readonly retryAfterMs?: number | undefined }) {
    super(init, true, 'rate limited');
    this.retryAfterMs = init.retryAfterMs;
  }
}
