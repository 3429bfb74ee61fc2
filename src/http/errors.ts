import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** The JSON error body this service answers with (same envelope CHeKT documents, docs/CHEKT-API.md#error-bodies). */
export interface ApiError {
  error: { code: string; message: string; field?: string };
}

/** Builds an {@link ApiError}. */
export function apiError(code: string, message: string, field?: string): ApiError {
  return { error: { code, message, ...(field ? { field } : {}) } };
}

/**
 * Not-found handler (`setNotFoundHandler`), for every method. The message never repeats the URL, which the
 * client already has and which may be kilobytes long.
 */
export function notFound(_req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send(apiError('not_found', 'no such route'));
}

/**
 * Error handler (`setErrorHandler`) for hooks, body parsing and handlers:
 * - 401 from HTTP Basic auth → `unauthorized` (the plugin has already set `WWW-Authenticate`);
 * - any client error on an unknown route (say, malformed JSON posted to it) → 404 `not_found`;
 * - 413, a body over the route's `bodyLimit` (fastify's default, 1 MiB) → `payload_too_large`;
 * - 415, a body that is not `application/json` → 400 `invalid_request`: every body this service takes is JSON;
 * - any other 4xx keeps its status and fastify's message (fixed texts such as "Body is not valid JSON but
 *   content-type is set to 'application/json'") as `invalid_request`;
 * - 5xx is logged and answered `internal` without detail.
 */
export function handleError(err: Error & { statusCode?: number }, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = err.statusCode ?? 500;
  if (status === 401) return reply.code(401).send(apiError('unauthorized', 'valid credentials required'));
  // fastify parses the body even for an unknown route; the route's absence is the answer, not the body.
  if (status === 404 || req.is404) return notFound(req, reply);
  if (status === 413) {
    return reply.code(413).send(apiError('payload_too_large', `request body is over the ${req.routeOptions.bodyLimit}-byte limit`));
  }
  if (status === 415) return reply.code(400).send(apiError('invalid_request', 'request body must be JSON (Content-Type: application/json)'));
  if (status < 500) return reply.code(status).send(apiError('invalid_request', err.message));
  req.log.error({ err }, 'http handler failed');
  return reply.code(500).send(apiError('internal', 'internal error'));
}

/**
 * The `frameworkErrors` option: errors fastify raises before routing, which would otherwise be answered in
 * fastify's own shape with the URL echoed back. A malformed URL (bad percent-encoding) → 400; a param over
 * `maxParamLength` → 404 like any unknown route.
 */
export function handleFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err.code === 'FST_ERR_BAD_URL') return reply.code(400).send(apiError('invalid_request', 'malformed URL'));
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return notFound(req, reply);
  return handleError(err, req, reply);
}
