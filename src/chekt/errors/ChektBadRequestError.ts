import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * 400 Bad Request, or 422 validation failed: the payload is wrong, so repeating it cannot succeed.
 * `field` names the offending input when CHeKT says (CHeKT's "Error Responses"; docs/CHEKT-API.md#error-bodies). Not retryable.
 */
export class ChektBadRequestError extends ChektError {
  constructor(init: ChektErrorInit) {
    super(init, false, 'bad request');
  }
}
