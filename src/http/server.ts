import basicAuth from '@fastify/basic-auth';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { App } from '../app.js';
import { credentialsMatch } from './auth.js';
import { apiError } from './errors.js';
import { getRun } from './routes/getRun.js';
import { postResync } from './routes/postResync.js';

/**
 * The HTTP server: `/healthz` (open), and behind HTTP Basic admin authentication (401 without):
 * bull-board at `/admin/queues`, `POST /api/resync`, `GET /api/runs/:id`.
 */
export async function buildHttpServer(app: App, credentials: { user: string; password: string }): Promise<FastifyInstance> {
  const server = Fastify({ loggerInstance: app.logger.child({ component: 'http' }) as FastifyBaseLogger, disableRequestLogging: true });
  server.get('/healthz', async () => ({ status: 'ok' }));

  await server.register(async (scope) => {
    await scope.register(basicAuth, {
      authenticate: { realm: 'chekt-contact-sync' },
      validate: async (user, password) => {
        if (!credentialsMatch(user, password, credentials.user, credentials.password)) throw new Error('invalid credentials');
      },
    });
    scope.addHook('onRequest', scope.basicAuth);
    scope.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
      const status = err.statusCode ?? 500;
      if (status === 401) return reply.code(401).send(apiError('unauthorized', 'valid credentials required'));
      if (status < 500) return reply.code(status).send(apiError('invalid_request', err.message));
      app.logger.error({ err }, 'http handler failed');
      return reply.code(500).send(apiError('internal', 'internal error'));
    });
    const board = new FastifyAdapter();
    createBullBoard({
      queues: [new BullMQAdapter(app.operationsQueue, { readOnlyMode: false }), new BullMQAdapter(app.controlQueue)],
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'chekt-contact-sync' } },
    });
    board.setBasePath('/admin/queues');
    await scope.register(board.registerPlugin(), { prefix: '/admin/queues' });
    postResync(scope, app);
    getRun(scope, app);
  });
  return server;
}
