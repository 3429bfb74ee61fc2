import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { App } from '../app.js';
import { auditBoardWrites } from './audit.js';
import { requireAuth, type HttpCredentials } from './auth.js';
import { handleError, handleFrameworkError, notFound } from './errors.js';
import { getAudit } from './routes/getAudit.js';
import { getConsole } from './routes/getConsole.js';
import { getHolds } from './routes/getHolds.js';
import { getMetrics } from './routes/getMetrics.js';
import { getReady } from './routes/getReady.js';
import { getRun } from './routes/getRun.js';
import { getRuns } from './routes/getRuns.js';
import { getSite } from './routes/getSite.js';
import { getStatus } from './routes/getStatus.js';
import { postConsole } from './routes/postConsole.js';
import { postHoldApprove } from './routes/postHoldApprove.js';
import { postResync } from './routes/postResync.js';

/**
 * Longest path parameter routed, in characters (fastify's default is 100). A longer one would be answered
 * before the auth hook runs; this lets it reach its route, where auth answers 401 first and the route 404.
 * The default guards regex params, which no route here has; Node's 16 KiB header limit bounds the URL.
 */
const MAX_PARAM_LENGTH = 16_384;

/**
 * The HTTP server: `/healthz` and `/readyz` (open), and behind HTTP Basic authentication (401 without; the viewer
 * may only GET/HEAD, 403 otherwise; cross-site writes 403; see `auth.ts`): `/metrics`, bull-board at
 * `/admin/queues`, `POST /api/resync`, `GET /api/runs`, `GET /api/runs/:id`, `GET /api/sites/:dealerId/:siteId`.
 * Every error, unknown routes included, is answered in the `{error: {code, message, field?}}` envelope (`errors.ts`).
 */
export async function buildHttpServer(app: App, credentials: HttpCredentials): Promise<FastifyInstance> {
  const server = Fastify({
    loggerInstance: app.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Per-request access logs are off (bull-board polls every few seconds); errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: handleFrameworkError,
  });
  server.setErrorHandler(handleError);
  server.setNotFoundHandler(notFound);
  server.get('/healthz', async () => ({ status: 'ok' }));
  getReady(server, app);
  await server.register(async (scope) => {
    await requireAuth(scope, credentials);
    getMetrics(scope, app);
  });

  // One scope per protected prefix: fastify sends the 404s under a prefix through that scope's onRequest hooks,
  // so an unknown /api or /admin path answers 401 before 404, like the routes do.
  await server.register(
    async (api) => {
      await requireAuth(api, credentials);
      api.setNotFoundHandler(notFound);
      // Bodies are JSON only: without this, a text/plain body would reach the handlers as a string.
      api.removeContentTypeParser('text/plain');
      postResync(api, app);
      getRun(api, app);
      getRuns(api, app);
      getSite(api, app);
      getStatus(api, app);
      getHolds(api, app);
      postHoldApprove(api, app);
      getAudit(api, app);
    },
    { prefix: '/api' },
  );
  // The operator console (docs/CONSOLE.md): server-rendered pages and form actions, same auth and roles.
  await server.register(
    async (scope) => {
      await requireAuth(scope, credentials);
      scope.setNotFoundHandler(notFound);
      getConsole(scope, app);
      postConsole(scope, app);
    },
    { prefix: '/console' },
  );
  await server.register(
    async (admin) => {
      await requireAuth(admin, credentials);
      admin.setNotFoundHandler(notFound);
      // bull-board's writes (retry, promote, clean, remove, ...) are audited before they run (http/audit.ts).
      auditBoardWrites(admin, app.db);
      admin.addHook('onSend', async (_req, reply, payload) => withoutRemoteFonts(reply.getHeader('content-type'), payload));
      const board = new FastifyAdapter();
      createBullBoard({
        queues: [new BullMQAdapter(app.operationsQueue, { readOnlyMode: false }), new BullMQAdapter(app.controlQueue)],
        serverAdapter: board,
        options: { uiConfig: { boardTitle: 'chekt-contact-sync', miscLinks: [{ text: 'Console', url: '/console' }], hideDocsLink: true } },
      });
      board.setBasePath('/admin/queues');
      await admin.register(board.registerPlugin(), { prefix: '/queues' });
    },
    { prefix: '/admin' },
  );
  return server;
}

/**
 * bull-board's page links Google Fonts (`fonts.googleapis.com`), a request to another host that fails offline
 * and tells a third party who opens the dashboard: the link is removed from its HTML, and the page falls back to
 * system fonts (its CSS names fallbacks). Other payloads pass unchanged.
 */
export function withoutRemoteFonts(contentType: unknown, payload: unknown): unknown {
  if (typeof payload !== 'string' || !String(contentType ?? '').startsWith('text/html')) return payload;
  return payload.replace(/<link[^>]+href="https:\/\/fonts\.(googleapis|gstatic)\.com[^"]*"[^>]*>/g, '');
}
