import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * The token endpoint failed (docs/CHEKT-API.md#token-endpoint; error body per RFC 6749 §5.2, e.g. `invalid_client`).
 * Retryable only when the cause is transient: 5xx, 429, timeout or network (`status` undefined). A 400/401
 * means wrong credentials, key or audience, and a 2xx without `access_token` is a contract break: not retryable.
 */
export class ChektTokenError extends ChektError {
  constructor(init: Omit<ChektErrorInit, 'endpoint'> & { readonly endpoint?: string; readonly transient?: boolean }) {
    const status = init.status;
    const transient = init.transient ?? (status === undefined || status === 429 || status >= 500);
    super({ ...init, endpoint: init.endpoint ?? 'POST token' }, transient, 'token request failed');
  }
}
