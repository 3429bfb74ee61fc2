import type { ParsedErrorBody } from '../errorBody.js';
import { ChektAuthError } from './ChektAuthError.js';
import { ChektBadRequestError } from './ChektBadRequestError.js';
import { ChektConflictError } from './ChektConflictError.js';
import type { ChektError, ChektErrorInit } from './ChektError.js';
import { ChektForbiddenError } from './ChektForbiddenError.js';
import { ChektNotFoundError } from './ChektNotFoundError.js';
import { ChektRateLimitedError } from './ChektRateLimitedError.js';
import { ChektResponseError } from './ChektResponseError.js';
import { ChektServerError } from './ChektServerError.js';
import { ChektTimeoutError } from './ChektTimeoutError.js';

/** Inputs of {@link errorForStatus}: one failed HTTP response. */
export interface ErrorForStatusInput {
  readonly endpoint: string;
  readonly status: number;
  readonly traceId: string | undefined;
  readonly body: ParsedErrorBody;
  /** Parsed `Retry-After`, in ms; only used for 429. */
  readonly retryAfterMs?: number | undefined;
}

/**
 * Maps a non-success status to its typed error (CHeKT's "Error Responses"; docs/CHEKT-API.md#error-bodies):
 * 400/422 → {@link ChektBadRequestError}, 401 → {@link ChektAuthError} (not retryable: callers renew first),
 * 403 → Forbidden, 404 → NotFound, 408 → Timeout, 409 → Conflict, 429 → RateLimited, 5xx → Server,
 * anything else (other 1xx-4xx, an undocumented 2xx/3xx) → {@link ChektResponseError}.
 */
export function errorForStatus(input: ErrorForStatusInput): ChektError {
  const { status, body } = input;
  const init: ChektErrorInit = {
    endpoint: input.endpoint,
    status,
    code: body.code,
    field: body.field,
    traceId: input.traceId,
    detail: body.requestId ? `${body.message ?? ''} [request_id ${body.requestId}]`.trim() : body.message,
  };
  switch (status) {
    case 400:
    case 422:
      return new ChektBadRequestError(init);
    case 401:
      return new ChektAuthError({ ...init, retryable: false });
    case 403:
      return new ChektForbiddenError(init);
    case 404:
      return new ChektNotFoundError(init);
    case 408:
      return new ChektTimeoutError(init);
    case 409:
      return new ChektConflictError(init);
    case 429:
      return new ChektRateLimitedError({ ...init, retryAfterMs: input.retryAfterMs });
    default:
      return status >= 500 && status <= 599 ? new ChektServerError(init) : new ChektResponseError(init);
  }
}
