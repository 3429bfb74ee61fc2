import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../context.js';
import { dropConnection } from '../hooks.js';
import { CONTACT_PATH, parseContactId, resolveSite, sendContactNotFound, type ContactParams } from './lookup.js';

/**
 * `DELETE /partner/v1/dealers/:dealerId/sites/:siteId/contacts/:contactId` (CHeKT's "Delete a Contact", docs/CHEKT-API.md#contacts-endpoints) → 204 with
 * no body. A second delete of the same id answers 404 (whether CHeKT does so is not documented, docs/CHEKT-API.md#unknowns).
 */
export function deleteContact(app: FastifyInstance, ctx: SandboxContext): void {
  app.delete<{ Params: ContactParams }>(CONTACT_PATH, async (request, reply) => {
    if (!resolveSite(ctx, request.params, reply)) return reply;
    const { dealerId, siteId, contactId } = request.params;
    const id = parseContactId(contactId, ctx.contactIdOffset);
    if (id === undefined || !ctx.store.remove(dealerId, siteId, id)) return sendContactNotFound(reply, contactId);
    if (ctx.faults.shouldDropWrite()) return dropConnection(ctx, request, reply);
    return reply.code(204).send();
  });
}
