import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../context.js';
import { CONTACTS_PATH, resolveSite, type SiteParams } from './lookup.js';

/**
 * `GET /partner/v1/dealers/:dealerId/sites/:siteId/contacts` (CHeKT's "List All Contacts", docs/CHEKT-API.md#contacts-endpoints) → 200 with a bare JSON
 * array sorted by `contact_id`; no pagination (none is documented).
 */
export function getContacts(app: FastifyInstance, ctx: SandboxContext): void {
  app.get<{ Params: SiteParams }>(CONTACTS_PATH, async (request, reply) => {
    if (!resolveSite(ctx, request.params, reply)) return reply;
    return reply.code(200).send(ctx.faults.page(ctx.store.list(request.params.dealerId, request.params.siteId)));
  });
}
