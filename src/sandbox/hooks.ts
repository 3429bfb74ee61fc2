import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from './context.js';
import { isUuid } from './recorder.js';
import type { SandboxRequestRecord } from './types.js';

/** Prefix of the sandbox's own inspection routes, which are never recorded, limited or faulted. */
export const INSPECT_PREFIX = '/__sandbox';

const TRACE_HEADER = 'x-partner-trace-id';

/** Whether the request targets an inspection route. */
export function isInspection(request: FastifyRequest): boolean {
  return request.url === INSPECT_PREFIX || request.url.startsWith(`${INSPECT_PREFIX}/`);
}

/** The `x-partner-trace-id` header (an optional UUID on every endpoint, docs/CHEKT-API.md#trace-ids), first value if repeated. */
export function traceIdOf(request: FastifyRequest): string | null {
  const raw = request.headers[TRACE_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined ? null : value;
}

/**
 * onRequest (root): notes the arrival time and echoes `x-partner-trace-id` on the response. Whether CHeKT
 * echoes it is not documented (docs/CHEKT-API.md#trace-ids); echoing lets clients check correlation end to end.
 */
export function onRequestTrace(ctx: SandboxContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    ctx.arrivals.set(request, Date.now());
    if (!isInspection(request)) {
      ctx.inFlight.count += 1;
      reply.raw.once('close', () => {
        ctx.inFlight.count -= 1;
      });
    }
    const traceId = traceIdOf(request);
    if (traceId !== null) reply.header(TRACE_HEADER, traceId);
  };
}

/**
 * onSend (root): records every API response just before it is written, so a client that has read its response
 * always finds it in `stats()`/`requests()`.
 */
export function onSendRecord(ctx: SandboxContext) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    if (!isInspection(request)) ctx.recorder.record(buildRecord(ctx, request, reply.statusCode));
    return payload;
  };
}

/**
 * Answers a committed write by destroying the socket (fault `dropAfterCommitRate`): the client sees a network
 * error although the change is stored, the case that makes retries need to be idempotent. Recorded as status 0.
 */
export function dropConnection(ctx: SandboxContext, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  ctx.recorder.record(buildRecord(ctx, request, 0));
  reply.hijack();
  request.raw.socket.destroy();
  return reply;
}

function buildRecord(ctx: SandboxContext, request: FastifyRequest, status: number): SandboxRequestRecord {
  const traceId = traceIdOf(request);
  const pattern = request.routeOptions.url;
  const authorization = request.headers.authorization;
  return {
    method: request.method,
    path: request.url.split('?', 1)[0] ?? request.url,
    route: `${request.method} ${pattern ?? '(unmatched)'}`,
    status,
    traceId,
    traceIdIsUuid: traceId !== null && isUuid(traceId),
    hasBearer: authorization !== undefined && /^Bearer\s+\S+/i.test(authorization),
    at: ctx.arrivals.get(request) ?? Date.now(),
  };
}
