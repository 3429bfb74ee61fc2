import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * No usable response: connection refused, reset or dropped mid-response (`code` holds e.g. `ECONNRESET`,
 * `ECONNREFUSED`, `UND_ERR_SOCKET`). Retryable; note a dropped POST may already have been applied by CHeKT,
 * so a retried create can meet a 409.
 */
export class ChektNetworkError extends ChektError {
  constructor(init: ChektErrorInit) {
    super(init, true, 'network error');
  }
}
