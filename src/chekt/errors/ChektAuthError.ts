import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * 401 Unauthorized: token missing, expired or revoked (CHeKT's "Error Responses": get a new token; docs/CHEKT-API.md#contacts-endpoints).
 * A 401 is worth exactly one retry after a forced token renewal. The client does that renewal and retry itself,
 * so the errors it throws carry `retryable: false` (pass `retryable: true` only where no renewal happened yet).
 */
export class ChektAuthError extends ChektError {
  constructor(init: ChektErrorInit & { readonly retryable?: boolean }) {
    super(init, init.retryable ?? false, 'unauthorized');
  }
}
