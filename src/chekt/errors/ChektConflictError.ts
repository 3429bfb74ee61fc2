import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * 409 Conflict, e.g. a duplicate `external_contact_id` on the site or `idempotency_conflict` (docs/CHEKT-API.md#error-bodies, docs/CHEKT-API.md#idempotency-keys-and-webhooks).
 * Not retryable by itself: refresh local state (list the site) and decide again.
 */
export class ChektConflictError extends ChektError {
  constructor(init: ChektErrorInit) {
    super(init, false, 'conflict');
  }
}
