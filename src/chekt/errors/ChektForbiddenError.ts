import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * 403 Forbidden: the client lacks a scope such as `create:site_contacts`, or the dealer is outside its reach
 * (docs/CHEKT-API.md#token-endpoint, docs/CHEKT-API.md#error-bodies). Not retryable: it needs a configuration change at CHeKT.
 */
export class ChektForbiddenError extends ChektError {
  constructor(init: ChektErrorInit) {
    super(init, false, 'forbidden');
  }
}
