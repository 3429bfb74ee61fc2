import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.js';
import { parseQuery } from '../query.js';
import { listHolds } from '../../source/readModel/holds.js';

/**
 * `GET /api/holds` (under `/api`) → 200 `{items: [{site, reason, deletes, managed, since, runId}]}`: every site
 * whose deletes wait for an operator (`sync_holds`), oldest first; `site` is `dealerId/siteId`, `since` ISO 8601,
 * `runId` the run that last held it (null when a worker held it).
 */
export function getHolds(scope: FastifyInstance, app: App): void {
  scope.get('/holds', async (req, reply) => {
    if (!parseQuery(z.object({}).strict(), req.query, reply)) return reply;
    const holds = await listHolds(app.db);
    return { items: holds.map(({ heldAt, ...h }) => ({ site: h.site, reason: h.reason, deletes: h.deletes, managed: h.managed, since: heldAt, runId: h.runId })) };
  });
}
