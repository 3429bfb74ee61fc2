import type { FastifyInstance } from 'fastify';
import { applyRateLimitHeaders, type SandboxContext } from '../context.js';
import { sendError } from '../errors.js';
import { holdRequest } from './latency.js';

/** Path of the token endpoint (docs/CHEKT-API.md#token-endpoint: `POST https://api.chekt.com/oauth/token`). */
export const TOKEN_PATH = '/oauth/token';

/**
 * `POST /oauth/token`, `application/x-www-form-urlencoded` (documented) or JSON (accepted). The request counts
 * against the named client's rate limit first (when `client_id`, or the assertion's `iss`, is a known client);
 * then faults `tokenLatencyMs` and `tokenErrorRate` (503), then see {@link TokenService.issue}. Success 200 with `Cache-Control: no-store` (RFC 6749 §5.1); failures
 * `{error, error_description}` (RFC 6749 §5.2), except 429 which uses the envelope like every other route.
 * Registered in its own scope so the form parser does not apply to `/partner` routes (JSON only there).
 */
export async function postToken(app: FastifyInstance, ctx: SandboxContext): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });
    scope.post(TOKEN_PATH, async (request, reply) => {
      // RFC 9110 §6.6.1: the answer's Date is the server's own clock (which a client can compare with its own).
      reply.header('date', new Date(ctx.now()).toUTCString());
      const form = typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {};
      const clientId = ctx.tokens.claimedClientId(form);
      const decision = clientId === undefined ? undefined : ctx.limiter.take(clientId);
      if (decision) {
        applyRateLimitHeaders(reply, decision, ctx.rateLimitHeaders);
        if (!decision.allowed) return sendError(reply, 429, 'rate_limited', `rate limit of ${decision.limit}/min exceeded`);
      }
      const closed = await holdRequest(ctx, request, reply, ctx.faults.faults.tokenLatencyMs);
      if (closed) return closed;
      if (ctx.faults.shouldFailToken()) return reply.code(503).send({ error: 'temporarily_unavailable', error_description: 'token server unavailable (sandbox fault: tokenErrorRate)' });
      const outcome = await ctx.tokens.issue(form);
      if (!outcome.ok) return reply.code(outcome.status).send({ error: outcome.error, error_description: outcome.description });
      return reply.code(200).header('cache-control', 'no-store').header('pragma', 'no-cache').send(outcome.response);
    });
  });
}
