import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * 404 Not Found: the contact, site or dealer does not exist or is outside the dealer scope (CHeKT's "Error Responses"; docs/CHEKT-API.md#error-bodies).
 * Not retryable. Callers decide what it means (e.g. a DELETE of an already-gone contact may count as done).
 */
export class ChektNotFoundError extends ChektError {
  constructor(init: ChektErrorInit) {
    super(init, false, 'not found');
  }
}
