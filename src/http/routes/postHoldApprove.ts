import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.js';
import { approveHold } from '../actions.js';
import { apiError } from '../errors.js';

/**
 * `POST /api/holds/:dealerId/:siteId/approve` (under `/api`; operator only, CSRF rules as every write; no body)
 * → 202 `{runId, href}`: a reconcile of the site that makes the deletes its hold showed (http/actions.ts),
 * audited as `hold.approve` before it is queued. 404 `not_found` when the site has no hold; 409 `conflict` when
 * no enabled CRM site maps to it; 503 `audit_unavailable` when the audit row cannot be written (nothing runs).
 */
export function postHoldApprove(scope: FastifyInstance, app: App): void {
  scope.post<{ Params: { dealerId: string; siteId: string } }>('/holds/:dealerId/:siteId/approve', async (req, reply) => {
    const { dealerId, siteId } = req.params;
    if (dealerId.includes('\u0000') || siteId.includes('\u0000')) return reply.code(404).send(apiError('not_found', 'no such hold'));
    const r = await approveHold(app, req, { dealerId, siteId }, 'api');
    if (!r.ok) return reply.code(r.status).send(apiError(r.code, r.message));
    return reply.code(202).send({ runId: r.runId, href: r.href });
  });
}
