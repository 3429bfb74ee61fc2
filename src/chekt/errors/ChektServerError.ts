import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * 5xx from CHeKT. Retryable with backoff (chekt-api.md §4).
 */
export class ChektServerError extends ChektError {
  constructor(init: ChektErrorInit) {
    super(init, true, 'server error');
  }
}
