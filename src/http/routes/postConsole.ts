import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../app.js';
import { approveHold, resyncSite, type ActionResult } from '../actions.js';
import { html } from '../console/html.js';
import { sendPage } from './getConsole.js';

/**
 * The console's actions (register under the `/console` prefix, behind auth: operator only, cross-site posts
 * refused; docs/CONSOLE.md "Actions"). HTML form posts (`application/x-www-form-urlencoded`), each audited before
 * it runs, answered 303 to the run's page:
 * - `POST /console/sites/:dealerId/:siteId/approve`: make the held deletes (`hold.approve`);
 * - `POST /console/sites/:dealerId/:siteId/resync` with `dryRun=true|false`: reconcile the site (`site.resync`;
 *   the site page offers the dry run, whose run page offers the real one);
 * - `POST /console/sites/:dealerId/:siteId/retry`: reconcile the site to retry its failed contacts
 *   (`site.retry_failed`).
 */
export function postConsole(scope: FastifyInstance, app: App): void {
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  type Req = FastifyRequest<{ Params: { dealerId: string; siteId: string }; Body: Record<string, string> | undefined }>;
  const ref = (req: Req) => ({ dealerId: req.params.dealerId, siteId: req.params.siteId });
  const answer = (req: FastifyRequest, reply: FastifyReply, r: ActionResult) =>
    r.ok
      ? reply.code(303).header('location', `/console/runs/${r.runId}`).send()
      : sendPage(req, reply, 'Not done', html`<p>${r.message}</p><p><a href="/console">Back to the overview</a></p>`, { status: r.status });

  scope.post<{ Params: { dealerId: string; siteId: string }; Body: Record<string, string> | undefined }>('/sites/:dealerId/:siteId/approve', async (req, reply) =>
    answer(req, reply, await approveHold(app, req, ref(req), 'console')),
  );
  scope.post<{ Params: { dealerId: string; siteId: string }; Body: Record<string, string> | undefined }>('/sites/:dealerId/:siteId/resync', async (req, reply) =>
    answer(req, reply, await resyncSite(app, req, ref(req), { action: 'site.resync', dryRun: req.body?.dryRun !== 'false', trigger: 'console' })),
  );
  scope.post<{ Params: { dealerId: string; siteId: string }; Body: Record<string, string> | undefined }>('/sites/:dealerId/:siteId/retry', async (req, reply) =>
    answer(req, reply, await resyncSite(app, req, ref(req), { action: 'site.retry_failed', dryRun: false, trigger: 'console' })),
  );
}
