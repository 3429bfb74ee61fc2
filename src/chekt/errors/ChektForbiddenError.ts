import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * 403 Forbidden: the client lacks a scope such as `create:site_contacts`, or the dealer is outside its reach
 * (chekt-api.md §1, §4). Not retryable: it needs a configuration change at CHeKT.
 */
export class ChektForbiddenError extends ChektError {
  constructor(init: ChektErrorInit) {
    super(init, false, 'forbidden');
  }
}
