import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.js';
import { storableTextProblem } from '../../domain/text.js';
import { getSiteStatus } from '../../source/readModel/siteState.js';
import { apiError } from '../errors.js';

/**
 * `GET /api/sites/:dealerId/:siteId` (registered under the `/api` prefix) → 200 with the CRM site (name,
 * `sync_enabled`), its deletion hold or null, every contact's sync state with its reason, and the age of the
 * oldest change not yet applied, and reachability: each contact's `phoneType` and `smsCapable`, the site's
 * `smsCapableContacts` and `reach` (source/readModel/siteState.ts, docs/REACHABILITY.md). Contacts appear by `external_contact_id` only: no name,
 * phone or email. 404 `not_found` when no CRM site maps to this CHeKT dealer and site.
 */
export function getSite(scope: FastifyInstance, app: App): void {
  scope.get<{ Params: { dealerId: string; siteId: string } }>('/sites/:dealerId/:siteId', async (req, reply) => {
    // PostgreSQL text cannot hold NUL (the query would fail) nor keep a lone surrogate, so no site has such an id.
    if (storableTextProblem(req.params.dealerId) || storableTextProblem(req.params.siteId)) {
      return reply.code(404).send(apiError('not_found', 'no CRM site maps to this CHeKT dealer and site'));
    }
    const site = await getSiteStatus(app, { dealerId: req.params.dealerId, siteId: req.params.siteId }, app.planDeps.rules);
    if (!site) return reply.code(404).send(apiError('not_found', 'no CRM site maps to this CHeKT dealer and site'));
    return site;
  });
}
