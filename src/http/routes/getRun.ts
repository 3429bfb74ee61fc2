import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.js';
import { toRunDetailJson } from '../../domain/runReport.js';
import { readRun, readRunOperations } from '../../source/readModel/runs.js';
import { apiError } from '../errors.js';
import { intParam, parseQuery } from '../query.js';

const querySchema = z.object({ opsLimit: intParam(1, 1000, 100), opsOffset: intParam(0, 1_000_000_000, 0) }).strict();

/**
 * `GET /api/runs/:id?opsLimit=&opsOffset=` (registered under the `/api` prefix) → 200 with the run (same shape
 * as `npm run sync -- --json`, plus `trigger`, timestamps, `mode` and `approveDeletes`), and:
 * - `operations`: `{total, limit, offset, items}`, a page of the run's operations (dealer, site,
 *   `external_contact_id`, kind, applied kind, reason, outcome, error, attempts); `opsLimit` 1..1000 (default
 *   100), `opsOffset` default 0;
 * - `held`: the sites whose deletes this run held, with the reason; `driftRepaired`: drift repairs that succeeded.
 * Built by domain/runReport.ts `toRunDetailJson` from one read of the run (source/readModel/runs.ts).
 * `unmanagedBySite` (CHeKT contacts seen and left alone, per site) is part of the sync report.
 * 404 when unknown or not a UUID; 400 naming the `field` for a bad or unknown query parameter.
 */
export function getRun(scope: FastifyInstance, app: App): void {
  scope.get<{ Params: { id: string } }>('/runs/:id', async (req, reply) => {
    if (!z.uuid().safeParse(req.params.id).success) return reply.code(404).send(apiError('not_found', 'no such run'));
    const q = parseQuery(querySchema, req.query, reply);
    if (!q) return reply;
    const run = await readRun(app.db, req.params.id);
    if (!run) return reply.code(404).send(apiError('not_found', 'no such run'));
    return toRunDetailJson(run, await readRunOperations(app.db, run, { limit: q.opsLimit, offset: q.opsOffset }));
  });
}
