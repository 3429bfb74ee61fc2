import type { FastifyReply } from 'fastify';

/**
 * The error envelope CHeKT documents (docs/CHEKT-API.md#error-bodies): `{"error":{"code","message","request_id","field"}}`,
 * `code` a stable snake_case string, `field` naming the offending input when there is one. The sandbox sends
 * it on every error of the API except the token endpoint's OAuth errors (RFC 6749 §5.2) and its own 429.
 */
export interface ErrorEnvelope {
  error: { code: string; message: string; request_id: string; field?: string };
}

/** Builds an envelope; `requestId` is fastify's request id (`req_…`). */
export function errorEnvelope(requestId: string, code: string, message: string, field?: string): ErrorEnvelope {
  return { error: field === undefined ? { code, message, request_id: requestId } : { code, message, request_id: requestId, field } };
}

/** Sends `status` with an envelope and returns the reply (so async hooks can `return sendError(...)`). */
export function sendError(reply: FastifyReply, status: number, code: string, message: string, field?: string): FastifyReply {
  return reply.code(status).send(errorEnvelope(String(reply.request.id), code, message, field));
}

/** Envelope codes for errors fastify itself raises (bad JSON, wrong content type, body too large). */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    default:
      return status >= 500 ? 'internal_error' : 'bad_request';
  }
}
