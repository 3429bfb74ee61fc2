import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.js';
import { selectSites } from '../../source/crm.js';
import { requestResync } from '../../sync/requestResync.js';
import { AUDIT_UNAVAILABLE, audited } from '../audit.js';
import { apiError } from '../errors.js';
import { siteKey, parseSiteKey } from '../../domain/site.js';

const bodySchema = z
  .object({
    sites: z.array(z.string()).max(10_000).optional(),
    dryRun: z.boolean().optional(),
    approveDeletes: z.boolean().optional(),
  })
  .strict();

/** Rejected sites named in a 400's message; the rest are counted, so 10,000 unknown sites stay a small body. */
export const MAX_REJECTED_LISTED = 10;

/** `"a/b: reason; c/d: reason; ...; and <k> more of the <n> requested sites that cannot be synced"`. */
function describeRejected(rejected: ReadonlyArray<{ ref: string; reason: string }>): string {
  const listed = rejected.slice(0, MAX_REJECTED_LISTED).map((r) => `${r.ref.length > 80 ? `${r.ref.slice(0, 80)}…` : r.ref}: ${r.reason}`);
  const more = rejected.length - listed.length;
  return more > 0 ? `${listed.join('; ')}; and ${more} more of the ${rejected.length} requested sites that cannot be synced` : listed.join('; ');
}

/**
 * `POST /api/resync` (registered under the `/api` prefix)
 * `{"sites"?: ["dealerId/siteId"], "dryRun"?: boolean, "approveDeletes"?: boolean}` → 202 `{runId, status, href}`.
 * `sites` omitted or empty means every enabled site. A resync reconciles against CHeKT's live lists (drift
 * repair). `approveDeletes` lifts the deletion holds of the listed sites; it needs `sites` (400 otherwise).
 * The run is recorded at once (so `GET /api/runs/:id` answers right away) and planned by the control worker.
 * 400 with `error.field` for a bad body, and with `field: "sites"` when a requested site is missing from the CRM
 * or has `sync_enabled = false` (the message names the first {@link MAX_REJECTED_LISTED} and why, then how many
 * more; `npm run sync` exits 2 in that case). A site holding a NUL or a lone surrogate is a 400 on `sites` too.
 * Audited as `resync` before the run is queued (503 `audit_unavailable` if the audit row cannot be written).
 */
export function postResync(scope: FastifyInstance, app: App): void {
  scope.post('/resync', async (req, reply) => {
    // Only an absent body means "{}": a JSON `null` is as wrong as any other non-object.
    const parsed = bodySchema.safeParse(req.body === undefined ? {} : req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return reply.code(400).send(apiError('invalid_request', issue?.message ?? 'invalid body', issue?.path.join('.') || undefined));
    }
    let sites;
    try {
      sites = (parsed.data.sites ?? []).map(parseSiteKey);
    } catch (err) {
      return reply.code(400).send(apiError('invalid_request', (err as Error).message, 'sites'));
    }
    if (sites.length > 0) {
      const { rejected } = await selectSites(app.crm, sites);
      if (rejected.length > 0) {
        return reply.code(400).send(apiError('invalid_request', describeRejected(rejected), 'sites'));
      }
    }
    const approveDeletes = parsed.data.approveDeletes ?? false;
    if (approveDeletes && sites.length === 0) {
      return reply.code(400).send(apiError('invalid_request', 'approveDeletes needs the sites whose deletes are approved', 'sites'));
    }
    const dryRun = parsed.data.dryRun ?? false;
    const refs = sites.map((s) => siteKey(s));
    const target = refs.length === 0 ? 'all enabled sites' : refs.length <= 10 ? refs.join(',') : `${refs.slice(0, 10).join(',')} and ${refs.length - 10} more`;
    const done = await audited(app.db, req, { action: 'resync', target, params: { sites: refs, dryRun, approveDeletes, via: 'api' } }, async () => {
      const r = await requestResync(app.planDeps, { trigger: 'api', sites, dryRun, approveDeletes });
      return { value: r.runId, detail: `run ${r.runId}` };
    });
    if (!done.ran) return reply.code(503).send(AUDIT_UNAVAILABLE);
    return reply.code(202).send({ runId: done.value, status: 'planning', href: `/api/runs/${done.value}` });
  });
}
