import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * 5xx from CHeKT. Retryable with backoff (docs/CHEKT-API.md#error-bodies).
 */
export class ChektServerError extends ChektError {
  constructor(init: ChektErrorInit) {
    super(init, true, 'server error');
  }
}
