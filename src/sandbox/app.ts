import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SandboxContext } from './context.js';
import type { SandboxControls } from './control.js';
import { codeForStatus, errorEnvelope, sendError } from './errors.js';
import { onRequestTrace, onSendRecord } from './hooks.js';
import { registerInspectRoutes } from './inspect.js';
import { deleteContact } from './routes/deleteContact.js';
import { getContact } from './routes/getContact.js';
import { getContacts } from './routes/getContacts.js';
import { partnerGuard } from './routes/partnerGuard.js';
import { postContact } from './routes/postContact.js';
import { postToken, TOKEN_PATH } from './routes/postToken.js';
import { renderContactIds } from './routes/lookup.js';
import { putContact } from './routes/putContact.js';

/**
 * Builds the sandbox's fastify app (not listening): JSON parsing, error envelope, recording hooks, the token
 * endpoint, the five `/partner` contact routes behind {@link partnerGuard}, and `/__sandbox` inspection.
 */
export async function buildSandboxApp(ctx: SandboxContext, controls: SandboxControls, logger: Logger | false): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    // docs/CHEKT-API.md#error-bodies: request ids look like `req_91kxl2`.
    genReqId: () => `req_${randomBytes(6).toString('hex')}`,
    exposeHeadRoutes: false,
    // close() must end promptly even while a client holds keep-alive sockets or waits on injected latency:
    // tests and teammates' suites close sandboxes with clients still connected.
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;

  acceptEmptyJson(app);
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'sandbox handler failed');
    const message = status >= 500 ? 'internal error' : err.message;
    if (request.url.startsWith(TOKEN_PATH)) {
      return reply.code(status).send({ error: status >= 500 ? 'server_error' : 'invalid_request', error_description: message });
    }
    return reply.code(status).send(errorEnvelope(String(request.id), codeForStatus(status), message));
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'not_found', `no route for ${request.method} ${request.url.split('?', 1)[0]}`));
  app.addHook('onRequest', onRequestTrace(ctx));
  app.addHook('onSend', onSendRecord(ctx));

  await postToken(app, ctx);
  await app.register(async (scope) => {
    scope.addHook('onRequest', partnerGuard(ctx));
    scope.setReplySerializer((payload) => renderContactIds(payload, ctx.contactIdOffset, ctx.fractionalContactIds));
    postContact(scope, ctx);
    getContacts(scope, ctx);
    getContact(scope, ctx);
    putContact(scope, ctx);
    deleteContact(scope, ctx);
  });
  await registerInspectRoutes(app, controls, ctx.recorder);
  return app;
}

/**
 * Replaces fastify's JSON parser with one that reads an empty body as `undefined` instead of failing, so a
 * body-less POST with a JSON content type reaches validation (400 `invalid_body`) and the control routes.
 * Parsed objects are only ever read field by field, never merged, so `__proto__` keys are harmless.
 */
function acceptEmptyJson(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(Object.assign(new Error('request body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });
}
