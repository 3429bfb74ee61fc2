import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.js';
import { toJsonReport } from '../../cli/report.js';
import { getRun as loadRun } from '../../source/runs.js';
import { apiError } from '../errors.js';

/**
 * `GET /api/runs/:id` (registered under the `/api` prefix) → 200 with the run (same shape as
 * `npm run sync -- --json`), 404 when unknown or not a UUID.
 */
export function getRun(scope: FastifyInstance, app: App): void {
  scope.get<{ Params: { id: string } }>('/runs/:id', async (req, reply) => {
    if (!z.uuid().safeParse(req.params.id).success) return reply.code(404).send(apiError('not_found', 'no such run'));
    const run = await loadRun(app.db, req.params.id);
    if (!run) return reply.code(404).send(apiError('not_found', 'no such run'));
    return { ...toJsonReport(run), trigger: run.trigger, startedAt: run.startedAt, plannedAt: run.plannedAt, finishedAt: run.finishedAt };
  });
}
