import type { FastifyRequest } from 'fastify';
import type { App } from '../app.js';
import { siteKey, type SiteRef } from '../domain/site.js';
import { selectSites } from '../source/crm.js';
import { listHeldDeletes, readHold } from '../source/readModel/holds.js';
import { listFailedContactIds } from '../source/readModel/siteState.js';
import { requestResync } from '../sync/requestResync.js';
import { AUDIT_UNAVAILABLE, audited } from './audit.js';

/**
 * The operator's site actions, shared by `/api` and `/console` (docs/CONSOLE.md "Actions"). Each is audited
 * before it runs (http/audit.ts) and starts a reconcile run of the site through the control queue.
 */

/** What an action answers: the run it started, or why it did not run (an HTTP status and error code). */
export type ActionResult =
  { readonly ok: true; readonly runId: string; readonly href: string } | { readonly ok: false; readonly status: 404 | 409 | 503; readonly code: string; readonly message: string };

type Trigger = 'api' | 'console';

const auditUnavailable: ActionResult = { ok: false, status: 503, ...AUDIT_UNAVAILABLE.error };

/** 409 when the CRM has no enabled site for `ref` (the planner never touches such a site). */
async function checkSite(app: App, ref: SiteRef): Promise<ActionResult | null> {
  const { rejected } = await selectSites(app.crm, [ref]);
  const r = rejected[0];
  return r ? { ok: false, status: 409, code: 'conflict', message: `${r.ref}: ${r.reason}` } : null;
}

/**
 * Approves the held deletes of `ref`: a reconcile with `approveDeletes`, which makes the deletes the hold showed
 * (and holds the site again if more were planned since). Audited as `hold.approve` with the hold's reason and
 * the held deletes' `external_contact_id`s. 404 `not_found` when the site has no hold.
 */
export async function approveHold(app: App, req: FastifyRequest, ref: SiteRef, trigger: Trigger): Promise<ActionResult> {
  const hold = await readHold(app.db, ref);
  if (!hold) return { ok: false, status: 404, code: 'not_found', message: `site ${siteKey(ref)} has no deletion hold` };
  const bad = await checkSite(app, ref);
  if (bad) return bad;
  const deletes = await listHeldDeletes(app.db, ref);
  const params = { reason: hold.reason, deletes: hold.deletes, managed: hold.managed, externalContactIds: deletes.map((d) => d.externalContactId), via: trigger };
  return runAudited(app, req, { action: 'hold.approve', target: siteKey(ref), params }, { trigger, sites: [ref], dryRun: false, approveDeletes: true });
}

/**
 * Reconciles one site: `site.resync` (a dry run first, to preview: `dryRun` true), or `site.retry_failed` (the
 * same reconcile, which plans the site's failed contacts again whatever their cool-down).
 */
export async function resyncSite(app: App, req: FastifyRequest, ref: SiteRef, opts: { action: 'site.resync' | 'site.retry_failed'; dryRun: boolean; trigger: Trigger }): Promise<ActionResult> {
  const bad = await checkSite(app, ref);
  if (bad) return bad;
  const params: Record<string, unknown> = { dryRun: opts.dryRun, via: opts.trigger };
  if (opts.action === 'site.retry_failed') {
    params.externalContactIds = await listFailedContactIds(app.db, ref);
  }
  return runAudited(app, req, { action: opts.action, target: siteKey(ref), params }, { trigger: opts.trigger, sites: [ref], dryRun: opts.dryRun, approveDeletes: false });
}

async function runAudited(
  app: App,
  req: FastifyRequest,
  what: { action: string; target: string; params: Record<string, unknown> },
  resync: Parameters<typeof requestResync>[1],
): Promise<ActionResult> {
  const done = await audited(app.db, req, what, async () => {
    const r = await requestResync(app.planDeps, resync);
    return { value: r, detail: `run ${r.runId}` };
  });
  return done.ran ? { ok: true, ...done.value } : auditUnavailable;
}
