import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.js';
import { parseQuery } from '../query.js';
import { siteKey } from '../../domain/site.js';

/**
 * `GET /api/holds` (under `/api`) → 200 `{items: [{site, reason, deletes, managed, since, runId}]}`: every site
 * whose deletes wait for an operator (`sync_holds`), oldest first; `site` is `dealerId/siteId`, `since` ISO 8601,
 * `runId` the run that last held it (null when a worker held it).
 */
export function getHolds(scope: FastifyInstance, app: App): void {
  scope.get('/holds', async (req, reply) => {
    if (!parseQuery(z.object({}).strict(), req.query, reply)) return reply;
    const rows = await app.db.syncHold.findMany({ orderBy: [{ heldAt: 'asc' }, { chektDealerId: 'asc' }, { chektSiteId: 'asc' }] });
    return {
      items: rows.map((h) => ({ site: siteKey(h.chektDealerId, h.chektSiteId), reason: h.reason, deletes: h.deletes, managed: h.managed, since: h.heldAt.toISOString(), runId: h.runId })),
    };
  });
}
