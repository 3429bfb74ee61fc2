import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.js';
import { toRunDetailJson } from '../../domain/runReport.js';
import { listAudit } from '../../source/audit.js';
import { listHeldDeletes } from '../../source/readModel/holds.js';
import { readStatusReport } from '../../source/readModel/overview.js';
import { readRun, readRunOperations } from '../../source/readModel/runs.js';
import { getSiteStatus } from '../../source/readModel/siteState.js';
import { requestActor } from '../auth.js';
import { CONSOLE_CSS, html, page, type Html } from '../console/html.js';
import { auditPage, overviewPage, runPage, sitePage } from '../console/pages.js';
import { siteKey } from '../../domain/site.js';

/**
 * The console's pages (register under the `/console` prefix, behind auth; docs/CONSOLE.md "Pages"):
 * `GET /console` (overview), `/console/sites/:dealerId/:siteId`, `/console/runs/:id?opsOffset=`,
 * `/console/audit?before=`, and `/console/console.css`. HTML with a Content-Security-Policy that allows nothing
 * from another host (and no script at all). Unknown sites and runs answer 404 pages.
 */

/** Nothing from another host; no script; forms post only here; never framed. */
export const CONSOLE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Sends a console page. A run still planning or running refreshes every 2 s. */
export function sendPage(req: FastifyRequest, reply: FastifyReply, title: string, body: Html, opts: { status?: number; refreshSeconds?: number } = {}): FastifyReply {
  const who = requestActor(req);
  const text = page({ title, user: who?.user ?? '', role: who?.role ?? '', body, ...(opts.refreshSeconds ? { refreshSeconds: opts.refreshSeconds } : {}) });
  return reply
    .code(opts.status ?? 200)
    .header('content-security-policy', CONSOLE_CSP)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(text);
}

const canAct = (req: FastifyRequest) => requestActor(req)?.role === 'operator';
const pageQuery = z
  .object({
    opsOffset: z
      .string()
      .regex(/^[0-9]{1,9}$/)
      .optional(),
  })
  .strict();
const auditQuery = z.object({ before: z.uuid().optional() }).strict();

export function getConsole(scope: FastifyInstance, app: App): void {
  scope.get('/console.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=300').send(CONSOLE_CSS));

  scope.get('/', async (req, reply) => {
    const status = await readStatusReport(app, app.config.alerts.behindSeconds, app.planDeps.rules);
    return sendPage(req, reply, 'Overview', overviewPage(status, status.health, canAct(req)), { refreshSeconds: 30 });
  });

  scope.get<{ Params: { dealerId: string; siteId: string } }>('/sites/:dealerId/:siteId', async (req, reply) => {
    const ref = { dealerId: req.params.dealerId, siteId: req.params.siteId };
    const s = ref.dealerId.includes('\u0000') || ref.siteId.includes('\u0000') ? null : await getSiteStatus(app, ref, app.planDeps.rules);
    if (!s) return sendPage(req, reply, 'Site not found', html`<p>No CRM site maps to ${siteKey(ref)}.</p>`, { status: 404 });
    const held = s.hold ? await listHeldDeletes(app.db, ref) : [];
    return sendPage(req, reply, `Site ${siteKey(s)}`, sitePage(s, held, canAct(req)));
  });

  scope.get<{ Params: { id: string } }>('/runs/:id', async (req, reply) => {
    const q = pageQuery.safeParse(req.query ?? {});
    const offset = q.success && q.data.opsOffset ? Number(q.data.opsOffset) : 0;
    const run = z.uuid().safeParse(req.params.id).success ? await readRun(app.db, req.params.id) : null;
    if (!run) return sendPage(req, reply, 'Run not found', html`<p>No such run.</p>`, { status: 404 });
    const report = toRunDetailJson(run, await readRunOperations(app.db, run, { limit: 100, offset }));
    const live = run.status === 'planning' || run.status === 'running';
    return sendPage(req, reply, `Run ${run.id}`, runPage(report, canAct(req)), live ? { refreshSeconds: 2 } : {});
  });

  scope.get('/audit', async (req, reply) => {
    const q = auditQuery.safeParse(req.query ?? {});
    const pageOf = await listAudit(app.db, { limit: 50, before: q.success ? q.data.before : undefined });
    return sendPage(req, reply, 'Audit trail', auditPage(pageOf?.items ?? [], pageOf?.nextCursor ?? null));
  });
}
