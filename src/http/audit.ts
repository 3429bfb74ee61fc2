import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PrismaClient } from '../source/db.js';
import { finishAudit, startAudit } from '../source/audit.js';
import { requestActor } from './auth.js';
import { apiError } from './errors.js';

/**
 * Audit at the HTTP edge (docs/CONSOLE.md "Audit"): an operator action is recorded in `sync_audit` before it
 * runs, and refused (503 `audit_unavailable`) when the record cannot be written, so no action goes unrecorded.
 */

/** What an audited action is and acts on. */
export interface AuditedAction {
  readonly action: string;
  readonly target: string;
  readonly params?: Record<string, unknown>;
}

/** Answer of an action whose audit record could not be written (the action did not run). */
export const AUDIT_UNAVAILABLE = apiError('audit_unavailable', 'the audit trail cannot be written, so the action was not run');

/**
 * Records `what` for the request's user, runs `fn`, and settles the record: `succeeded` with the detail `fn`
 * returns (e.g. the run id), or `failed` with the error message (then rethrown). Returns `{ran: true, value}`, or
 * `{ran: false}` without running `fn` when the record could not be written (answer 503 {@link AUDIT_UNAVAILABLE}).
 */
export async function audited<T>(
  db: PrismaClient,
  req: FastifyRequest,
  what: AuditedAction,
  fn: () => Promise<{ value: T; detail: string | null }>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  const actor = requestActor(req) ?? { user: 'unknown', role: 'unknown' };
  let id: string;
  try {
    id = await startAudit(db, { actor: actor.user, role: actor.role, ...what });
  } catch (err) {
    req.log.error({ err, action: what.action }, 'audit record not written; action refused');
    return { ran: false };
  }
  try {
    const { value, detail } = await fn();
    await finishAudit(db, id, 'succeeded', detail).catch((err: unknown) => req.log.error({ err, auditId: id }, 'audit record not settled'));
    return { ran: true, value };
  } catch (err) {
    await finishAudit(db, id, 'failed', (err as Error).message).catch(() => undefined);
    throw err;
  }
}

/** Audit ids of bull-board writes in flight, settled just before the response is sent. */
const boardAudits = new WeakMap<FastifyRequest, string>();

/**
 * Hooks bull-board's write routes (every method but GET/HEAD under its `api/`) in `scope`: a `preHandler` records
 * the action before bull-board runs it, named from the route pattern (`bullboard.job.retry`,
 * `bullboard.queue.clean`, `bullboard.job.remove`, ...), with the route params and the body as parameters; an
 * `onSend` settles it by the status code before the answer leaves, so a client that reads the audit after bull-board
 * answered sees the outcome. Register before bull-board's plugin so the hooks reach its routes.
 */
export function auditBoardWrites(scope: FastifyInstance, db: PrismaClient): void {
  scope.addHook('preHandler', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return undefined;
    const params = (req.params ?? {}) as Record<string, string>;
    const actor = requestActor(req) ?? { user: 'unknown', role: 'unknown' };
    try {
      const id = await startAudit(db, {
        actor: actor.user,
        role: actor.role,
        action: boardAction(req.routeOptions.url ?? '', params),
        target: boardTarget(params),
        params: { ...params, method: req.method, body: req.body ?? null },
      });
      boardAudits.set(req, id);
      return undefined;
    } catch (err) {
      req.log.error({ err }, 'audit record not written; bull-board action refused');
      return reply.code(503).send(AUDIT_UNAVAILABLE);
    }
  });
  scope.addHook('onSend', async (req, reply, payload) => {
    const id = boardAudits.get(req);
    if (!id) return payload;
    boardAudits.delete(req);
    await finishAudit(db, id, reply.statusCode < 400 ? 'succeeded' : 'failed', `HTTP ${reply.statusCode}`).catch((err: unknown) => req.log.error({ err, auditId: id }, 'audit record not settled'));
    return payload;
  });
}

/** `bullboard.<job|queue>.<verb>` from a bull-board route such as `/admin/queues/api/queues/:queueName/:jobId/retry`. */
export function boardAction(pattern: string, params: Record<string, string>): string {
  const tail = pattern.split('/api/queues').at(-1) ?? pattern;
  const verbs = tail.split('/').filter((s) => s && !s.startsWith(':'));
  let verb = verbs.join('.') || 'write';
  // bull-board's UI calls removing one job "clean".
  if (params.jobId !== undefined && verb === 'clean') verb = 'remove';
  return `bullboard.${params.jobId !== undefined ? 'job' : 'queue'}.${verb}`;
}

function boardTarget(params: Record<string, string>): string {
  return [params.queueName ?? '*', params.jobId].filter((x) => x !== undefined).join('/');
}
