import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * 400 Bad Request, or 422 validation failed: the payload is wrong, so repeating it cannot succeed.
 * `field` names the offending input when CHeKT says (seed "Error Responses"; chekt-api.md §4). Not retryable.
 */
export class ChektBadRequestError extends ChektError {
  constructor(init: ChektErrorInit) {
    super(init, false, 'bad request');
  }
}
