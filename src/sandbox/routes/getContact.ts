import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../context.js';
import { CONTACT_PATH, parseContactId, resolveSite, sendContactNotFound, type ContactParams } from './lookup.js';

/** `GET /partner/v1/dealers/:dealerId/sites/:siteId/contacts/:contactId` (seed "Get a Specific Contact") → 200. */
export function getContact(app: FastifyInstance, ctx: SandboxContext): void {
  app.get<{ Params: ContactParams }>(CONTACT_PATH, async (request, reply) => {
    if (!resolveSite(ctx, request.params, reply)) return reply;
    const { dealerId, siteId, contactId } = request.params;
    const id = parseContactId(contactId);
    const contact = id === undefined ? undefined : ctx.store.get(dealerId, siteId, id);
    if (!contact) return sendContactNotFound(reply, contactId);
    return reply.code(200).send(contact);
  });
}
