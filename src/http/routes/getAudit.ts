import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.js';
import { listAudit } from '../../source/audit.js';
import { apiError } from '../errors.js';
import { intParam, parseQuery } from '../query.js';

const querySchema = z.object({ limit: intParam(1, 200, 50), before: z.uuid({ error: 'must be an audit id (a nextCursor)' }).optional() }).strict();

/**
 * `GET /api/audit?limit=&before=` (under `/api`) → 200 `{items, nextCursor}`: operator actions, newest first
 * (source/audit.ts): id, at, actor, role, action, target, params, outcome (`started` | `succeeded` | `failed`),
 * detail, finishedAt. `limit` 1..200 (default 50); `before` is the previous page's `nextCursor`. 400 naming the
 * `field` for a bad parameter or an unknown cursor.
 */
export function getAudit(scope: FastifyInstance, app: App): void {
  scope.get('/audit', async (req, reply) => {
    const q = parseQuery(querySchema, req.query, reply);
    if (!q) return reply;
    const page = await listAudit(app.db, { limit: q.limit, before: q.before });
    if (!page) return reply.code(400).send(apiError('invalid_request', 'before: no such audit entry', 'before'));
    return page;
  });
}
