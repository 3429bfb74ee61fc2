import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../context.js';
import { sendError } from '../errors.js';
import { dropConnection } from '../hooks.js';
import { validateCreateBody } from '../validate.js';
import { CONTACTS_PATH, resolveSite, sendFieldProblem, sendRejected, type SiteParams } from './lookup.js';

/**
 * `POST /partner/v1/dealers/:dealerId/sites/:siteId/contacts` (CHeKT's "Create a Contact", docs/CHEKT-API.md#contacts-endpoints) → 201 with the contact.
 * 400 on a bad body (`field` named), 409 `duplicate_external_contact_id` when the site already has that
 * `external_contact_id` (docs/CHEKT-API.md#the-chekt-sandbox).
 */
export function postContact(app: FastifyInstance, ctx: SandboxContext): void {
  app.post<{ Params: SiteParams }>(CONTACTS_PATH, async (request, reply) => {
    if (!resolveSite(ctx, request.params, reply)) return reply;
    const body = validateCreateBody(request.body);
    if (!body.ok) return sendFieldProblem(reply, body.problem);
    const refused = ctx.faults.refusedField(body.value);
    if (refused) return sendFieldProblem(reply, { code: 'invalid_field', message: `${refused} is not accepted`, field: refused });
    if (ctx.faults.rejects(body.value.external_contact_id)) return sendRejected(reply, body.value.external_contact_id);
    const { dealerId, siteId } = request.params;
    const created = ctx.store.create(dealerId, siteId, { ...body.value, phone_number: ctx.faults.storedPhone(body.value.phone_number) ?? null });
    if (!created.ok) {
      return sendError(
        reply,
        409,
        'duplicate_external_contact_id',
        `site already has a contact with external_contact_id ${body.value.external_contact_id} (contact_id ${created.existing.contact_id})`,
        'external_contact_id',
      );
    }
    if (ctx.faults.shouldDropWrite()) return dropConnection(ctx, request, reply);
    return reply.code(201).send(created.contact);
  });
}
