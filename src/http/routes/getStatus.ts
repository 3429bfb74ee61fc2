import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.js';
import { readStatusReport } from '../../source/readModel/overview.js';
import { parseQuery } from '../query.js';

/**
 * `GET /api/status` (under `/api`) → 200 with what `npm run status -- --json` prints: `holds`, `failures`,
 * `oldestUnsyncedChange`, the last `runs` (reported status words), and `health` `{healthy, behindSeconds,
 * problems}` (domain/health.ts; `healthy` false is what makes `npm run status` exit 1). Always 200 when
 * PostgreSQL answers: a monitor reads `health.healthy`.
 */
export function getStatus(scope: FastifyInstance, app: App): void {
  scope.get('/status', async (req, reply) => {
    if (!parseQuery(z.object({}).strict(), req.query, reply)) return reply;
    return readStatusReport(app, app.config.alerts.behindSeconds, app.planDeps.rules);
  });
}
