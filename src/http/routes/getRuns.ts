import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.js';
import { listRuns, resolveRunCursor, type RunCursor } from '../../source/readModel/runList.js';
import { apiError } from '../errors.js';
import { intParam, parseQuery } from '../query.js';

/**
 * The instants a `before` time may name: years 1 to 9999 in UTC. PostgreSQL has no year 0 and JavaScript writes
 * years past 9999 with a sign, so a time outside this range would fail the query (SQLSTATE 22008) instead of
 * being a 400. An offset counts: `9999-12-31T23:59:59-01:00` is in the year 10000.
 */
const MIN_BEFORE_MS = new Date('0001-01-01T00:00:00Z').getTime();
const MAX_BEFORE_MS = new Date('9999-12-31T23:59:59.999Z').getTime();

const querySchema = z
  .object({
    limit: intParam(1, 100, 20),
    before: z
      .union([z.uuid(), z.iso.datetime({ offset: true }), z.iso.date()], { error: 'must be a run id or an ISO 8601 date or time' })
      .refine((v) => z.uuid().safeParse(v).success || inRange(new Date(v).getTime()), 'must be a time between 0001-01-01 and 9999-12-31 (UTC)')
      .optional(),
  })
  .strict();

function inRange(ms: number): boolean {
  return Number.isFinite(ms) && ms >= MIN_BEFORE_MS && ms <= MAX_BEFORE_MS;
}

/**
 * `GET /api/runs?limit=&before=` (registered under the `/api` prefix) → 200 `{items, nextCursor}`: runs newest
 * first, `limit` per page (1..100, default 20). `before` is a run id (the page after that run; pass the previous
 * page's `nextCursor`) or an ISO 8601 time (runs started before it). `nextCursor` is null on the last page.
 * Each item: id, trigger, mode, dryRun, status, timestamps, plan totals, counts per kind and outcome, held sites,
 * failures and drift repairs (source/readModel/runList.ts). 400 naming the `field` for a bad or unknown parameter, or a
 * `before` run id that does not exist.
 */
export function getRuns(scope: FastifyInstance, app: App): void {
  scope.get('/runs', async (req, reply) => {
    const q = parseQuery(querySchema, req.query, reply);
    if (!q) return reply;
    let before: RunCursor | null = null;
    if (q.before !== undefined) {
      before = await resolveRunCursor(app.db, q.before, z.uuid().safeParse(q.before).success);
      if (!before) return reply.code(400).send(apiError('invalid_request', 'before: no such run', 'before'));
    }
    return listRuns(app.db, { limit: q.limit, before });
  });
}
