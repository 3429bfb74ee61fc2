import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * No response within the client's `timeoutMs` (or a 408 from CHeKT). Retryable; like a network error, a timed-out
 * write may still have been applied.
 */
export class ChektTimeoutError extends ChektError {
  /** The timeout that expired, in ms (`undefined` for a 408 answered by the server). */
  readonly timeoutMs: number | undefined;

  constructor(init: ChektErrorInit & { readonly timeoutMs?: number | undefined }) {
    super(init, true, init.timeoutMs === undefined ? 'timed out' : `timed out after ${init.timeoutMs} ms`);
    this.timeoutMs = init.timeoutMs;
  }
}
