import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../context.js';
import { dropConnection } from '../hooks.js';
import { validateUpdateBody } from '../validate.js';
import { CONTACT_PATH, findContact, sendContactNotFound, sendFieldProblem, sendRejected, type ContactParams } from './lookup.js';

/**
 * `PUT /partner/v1/dealers/:dealerId/sites/:siteId/contacts/:contactId` (CHeKT's "Update a Contact": all fields
 * optional) → 200 with the updated contact. Partial: present fields replace, `""`/null clear `phone_number` and
 * `email`, `external_contact_id` in the body is ignored (see ../validate.ts).
 */
export function putContact(app: FastifyInstance, ctx: SandboxContext): void {
  app.put<{ Params: ContactParams }>(CONTACT_PATH, async (request, reply) => {
    const found = findContact(ctx, request.params, reply);
    if (!found) return reply;
    const { id, contact: current } = found;
    const { dealerId, siteId, contactId } = request.params;
    const patch = validateUpdateBody(request.body);
    if (!patch.ok) return sendFieldProblem(reply, patch.problem);
    const refused = ctx.faults.refusedField(patch.value);
    if (refused) return sendFieldProblem(reply, { code: 'invalid_field', message: `${refused} is not accepted`, field: refused });
    if (ctx.faults.rejects(current.external_contact_id)) return sendRejected(reply, current.external_contact_id);
    const phone = ctx.faults.storedPhone(patch.value.phone_number);
    const updated = ctx.store.update(dealerId, siteId, id, phone === undefined ? patch.value : { ...patch.value, phone_number: phone });
    if (!updated) return sendContactNotFound(reply, contactId);
    if (ctx.faults.shouldDropWrite()) return dropConnection(ctx, request, reply);
    return reply.code(200).send(updated);
  });
}
