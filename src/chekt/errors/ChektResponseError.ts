import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * CHeKT answered with a status the endpoint does not document, or a 2xx body that fails the zod schema
 * (./schemas.ts). Not retryable: the same request would get the same answer.
 */
export class ChektResponseError extends ChektError {
  constructor(init: ChektErrorInit) {
    super(init, false, 'unexpected response');
  }
}
