import { scrubCredentialShapes } from '../../scrub.js';

/**
 * What every CHeKT failure carries. `endpoint` names the call in the form `'POST contacts'`, `'GET contacts/{id}'`
 * or `'POST token'`; the other fields are `undefined` when the response (or lack of one) did not provide them.
 */
export interface ChektErrorInit {
  /** e.g. `'POST contacts'`, `'DELETE contacts/{id}'`, `'POST token'`. */
  readonly endpoint: string;
  /** HTTP status, `undefined` when no response arrived (timeout, network). */
  readonly status?: number | undefined;
  /** Stable code from the error body (`error.code`, flat `code`, or RFC 6749 `error`). */
  readonly code?: string | undefined;
  /** Offending input field from the error body (`error.field`; docs/CHEKT-API.md#error-bodies). */
  readonly field?: string | undefined;
  /** The `x-partner-trace-id` sent with the failing request (quote it to CHeKT support; docs/CHEKT-API.md#trace-ids). */
  readonly traceId?: string | undefined;
  /** Human text, already capped by errorBody.ts (no credentials; CHeKT may echo input, so log at most this). */
  readonly detail?: string | undefined;
  readonly cause?: unknown;
}

/**
 * Base of every error the CHeKT client throws. The subclass *type* decides what a job does with it; `retryable`
 * answers one question: does sending the same request again have a chance of succeeding?
 * Statuses and meanings: docs/CHEKT-API.md#error-bodies.
 */
export abstract class ChektError extends Error {
  /** HTTP status; `undefined` when no response arrived. */
  readonly status: number | undefined;
  /** Code from the error body (e.g. `invalid_field`, `invalid_client`), or a transport code (`ECONNRESET`). */
  readonly code: string | undefined;
  /** Offending input field named by CHeKT (`error.field`). */
  readonly field: string | undefined;
  /** `x-partner-trace-id` of the failing request. */
  readonly traceId: string | undefined;
  /** e.g. `'POST contacts'`, `'POST token'`. */
  readonly endpoint: string;
  /** Whether retrying the same request (later, with backoff) may succeed. */
  readonly retryable: boolean;

  protected constructor(init: ChektErrorInit, retryable: boolean, summary: string) {
    super(formatMessage(init, summary), init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.traceId = init.traceId;
    this.endpoint = init.endpoint;
    this.retryable = retryable;
  }
}

/** True when `e` is any {@link ChektError} subclass. */
export function isChektError(e: unknown): e is ChektError {
  return e instanceof ChektError;
}

function formatMessage(init: ChektErrorInit, summary: string): string {
  const parts = [`CHeKT ${init.endpoint}: ${summary}`];
  if (init.status !== undefined) parts.push(`status ${init.status}`);
  if (init.code) parts.push(`code ${init.code}`);
  if (init.field) parts.push(`field ${init.field}`);
  let msg = parts.join(', ');
  if (init.detail) msg += ` - ${init.detail}`;
  if (init.traceId) msg += ` (trace ${init.traceId})`;
  // Details come from response bodies and transport errors: never let a credential through (../../scrub.ts).
  return scrubCredentialShapes(msg);
}
