import type { FastifyReply, FastifyRequest } from 'fastify';
import { applyRateLimitHeaders, type SandboxContext } from '../context.js';
import { sendError } from '../errors.js';
import { holdRequest } from './latency.js';

const UNAUTHORIZED_MESSAGES = {
  missing: 'missing bearer token',
  unknown: 'invalid access token',
  expired: 'access token expired',
} as const;

/**
 * onRequest for every `/partner` route, in CHeKT's order (docs/CHEKT-API.md#error-bodies: verify the token, then the rest):
 * 1. bearer token → 401 `invalid_api_key` (the code docs/CHEKT-API.md#error-bodies lists for 401) with `WWW-Authenticate` (RFC 6750 §3);
 * 2. fault `retryAfterSeconds`, then the client's token bucket → 429 `rate_limited` + `Retry-After`;
 * 3. `latencyMs` delay, then `errorRate` → 503 `service_unavailable`, before any state is read or changed.
 * Requests refused at step 1 have no known client and so are not counted by the rate limit.
 */
export function partnerGuard(ctx: SandboxContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const auth = ctx.tokens.check(request.headers.authorization);
    if (!auth.ok) {
      reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${UNAUTHORIZED_MESSAGES[auth.reason]}"`);
      return sendError(reply, 401, 'invalid_api_key', UNAUTHORIZED_MESSAGES[auth.reason]);
    }
    const { retryAfterSeconds } = ctx.faults.faults;
    if (retryAfterSeconds > 0) {
      reply.header('retry-after', String(Math.ceil(retryAfterSeconds)));
      return sendError(reply, 429, 'rate_limited', `rate limited for ${retryAfterSeconds} s (sandbox fault: retryAfterSeconds)`);
    }
    const decision = ctx.limiter.take(auth.clientId);
    if (decision) {
      applyRateLimitHeaders(reply, decision, ctx.rateLimitHeaders);
      if (!decision.allowed) return sendError(reply, 429, 'rate_limited', `rate limit of ${decision.limit}/min exceeded`);
    }
    // Closing meanwhile: the socket is destroyed; answer nothing.
    const closed = await holdRequest(ctx, request, reply, ctx.faults.faults.latencyMs);
    if (closed) return closed;
    if (ctx.faults.shouldFailRequest()) {
      return sendError(reply, 503, 'service_unavailable', 'service temporarily unavailable (sandbox fault: errorRate)');
    }
    return undefined;
  };
}
