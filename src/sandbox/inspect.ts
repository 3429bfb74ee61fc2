import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { SandboxControls } from './control.js';
import type { RequestRecorder } from './recorder.js';
import { sendError } from './errors.js';
import { INSPECT_PREFIX } from './hooks.js';

/**
 * Inspection and control routes under `/__sandbox` (no auth, never recorded, never limited or faulted), for
 * tests in other processes, the demo and partners' staging. Bodies are JSON; a bad body answers 400 with the
 * envelope naming the field.
 *
 * - `GET  /__sandbox/state` → `{sites:[{dealerId,siteId,contacts}], stats}`
 * - `GET  /__sandbox/requests` → `SandboxRequestRecord[]`
 * - `POST /__sandbox/reset`, `/reset-stats`, `/expire-tokens` → 204
 * - `GET|PUT /__sandbox/faults` (partial `SandboxFaults`) → the current faults
 * - `PUT  /__sandbox/rate-limit` `{perMinute, burst?}` → `{perMinute, burst}`
 * - `POST /__sandbox/sites` `{dealerId, siteId}` → 201
 * - `POST /__sandbox/dealers/:dealerId/sites/:siteId/contacts` (dealer-side insert) → 201 contact;
 *   `PUT|DELETE …/contacts/:contactId` → 200 contact / 204 (404 when absent)
 */

const faultsSchema = z.strictObject({
  latencyMs: z.number().min(0).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  dropAfterCommitRate: z.number().min(0).max(1).optional(),
  rejectExternalContactIds: z.array(z.string()).optional(),
  storePhoneDigitsOnly: z.boolean().optional(),
  listLimit: z.number().int().min(0).optional(),
  tokenLatencyMs: z.number().min(0).optional(),
  tokenErrorRate: z.number().min(0).max(1).optional(),
  retryAfterSeconds: z.number().min(0).optional(),
  strictPhone: z.boolean().optional(),
  rejectFields: z.array(z.string()).optional(),
  dropPhone: z.boolean().optional(),
});
const rateLimitSchema = z.strictObject({ perMinute: z.number().min(0), burst: z.number().min(1).optional() });
const siteSchema = z.strictObject({ dealerId: z.string().min(1), siteId: z.string().min(1) });
const nullable = z.string().nullable();
const seedSchema = z.object({
  external_contact_id: z.string(),
  first_name: z.string(),
  last_name: z.string(),
  phone_number: nullable.default(null),
  email: nullable.default(null),
});
const patchSchema = z.object({
  external_contact_id: z.string().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  phone_number: nullable.optional(),
  email: nullable.optional(),
});

type SiteParams = { dealerId: string; siteId: string };
type ContactParams = SiteParams & { contactId: string };

/** Registers the inspection routes. */
export async function registerInspectRoutes(app: FastifyInstance, controls: SandboxControls, recorder: RequestRecorder): Promise<void> {
  await app.register(
    async (scope) => {
      scope.get('/state', async () => controls.state());
      scope.get('/requests', async () => recorder.requests());
      scope.post('/reset', async (_req, reply) => {
        controls.reset();
        return reply.code(204).send();
      });
      scope.post('/reset-stats', async (_req, reply) => {
        controls.resetStats();
        return reply.code(204).send();
      });
      scope.post('/expire-tokens', async (_req, reply) => {
        controls.expireAllTokens();
        return reply.code(204).send();
      });
      scope.get('/faults', async () => controls.setFaults({}));
      scope.put('/faults', async (request, reply) => {
        const body = parse(faultsSchema, request.body, reply);
        return body && controls.setFaults(withoutUndefined(body));
      });
      scope.put('/rate-limit', async (request, reply) => {
        const body = parse(rateLimitSchema, request.body, reply);
        return body && controls.setRateLimit(body.perMinute, body.burst);
      });
      scope.post('/sites', async (request, reply) => {
        const body = parse(siteSchema, request.body, reply);
        if (!body) return reply;
        controls.addSite(body.dealerId, body.siteId);
        return reply.code(201).send(body);
      });
      registerDealerSideContactRoutes(scope, controls);
    },
    { prefix: INSPECT_PREFIX },
  );
}

function registerDealerSideContactRoutes(scope: FastifyInstance, controls: SandboxControls): void {
  const contacts = '/dealers/:dealerId/sites/:siteId/contacts';
  scope.post<{ Params: SiteParams }>(contacts, async (request, reply) => {
    const body = parse(seedSchema, request.body, reply);
    if (!body) return reply;
    return reply.code(201).send(controls.seedContact(request.params.dealerId, request.params.siteId, body));
  });
  scope.put<{ Params: ContactParams }>(`${contacts}/:contactId`, async (request, reply) => {
    const body = parse(patchSchema, request.body, reply);
    if (!body) return reply;
    const { dealerId, siteId, contactId } = request.params;
    try {
      return controls.updateContactDirect(dealerId, siteId, Number(contactId), withoutUndefined(body));
    } catch (err) {
      return sendError(reply, 404, 'not_found', (err as Error).message, 'contactId');
    }
  });
  scope.delete<{ Params: ContactParams }>(`${contacts}/:contactId`, async (request, reply) => {
    const { dealerId, siteId, contactId } = request.params;
    try {
      controls.deleteContactDirect(dealerId, siteId, Number(contactId));
      return reply.code(204).send();
    } catch (err) {
      return sendError(reply, 404, 'not_found', (err as Error).message, 'contactId');
    }
  });
}

/** Parses a JSON body; on failure sends 400 `invalid_field` naming the first bad field and returns undefined. */
function parse<T>(schema: z.ZodType<T>, body: unknown, reply: FastifyReply): T | undefined {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || undefined;
  sendError(reply, 400, 'invalid_field', issue?.message ?? 'invalid body', field);
  return undefined;
}

/** Drops undefined values so the result fits `exactOptionalPropertyTypes` partials. */
function withoutUndefined<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
