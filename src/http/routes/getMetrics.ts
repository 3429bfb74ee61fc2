import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.js';

/**
 * `GET /metrics` (register it in a scope behind viewer-or-admin auth): the app's Prometheus registry in the text
 * exposition format (`text/plain; version=0.0.4`). Collecting reads the queues' job counts, `sync_holds` and the
 * ledger's oldest pending change (see `src/metrics.ts`); if one of them fails, the scrape answers 500.
 */
export function getMetrics(scope: FastifyInstance, app: App): void {
  scope.get('/metrics', async (_req, reply) => {
    const body = await app.metrics.registry.metrics();
    return reply.header('content-type', app.metrics.registry.contentType).send(body);
  });
}
