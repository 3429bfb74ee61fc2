import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../context.js';
import { CONTACT_PATH, findContact, type ContactParams } from './lookup.js';

/** `GET /partner/v1/dealers/:dealerId/sites/:siteId/contacts/:contactId` (CHeKT's "Get a Specific Contact", docs/CHEKT-API.md#contacts-endpoints) → 200. */
export function getContact(app: FastifyInstance, ctx: SandboxContext): void {
  app.get<{ Params: ContactParams }>(CONTACT_PATH, async (request, reply) => {
    const found = findContact(ctx, request.params, reply);
    if (!found) return reply;
    return reply.code(200).send(found.contact);
  });
}
