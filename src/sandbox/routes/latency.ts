import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../context.js';

/**
 * Holds a request `ms` milliseconds (a latency fault). When the sandbox closes meanwhile, the socket is destroyed
 * and the hijacked reply is returned (answer nothing); otherwise `undefined` (go on).
 */
export async function holdRequest(ctx: SandboxContext, request: FastifyRequest, reply: FastifyReply, ms: number): Promise<FastifyReply | undefined> {
  if (ms <= 0) return undefined;
  try {
    await sleep(ms, undefined, { signal: ctx.shutdown });
    return undefined;
  } catch {
    reply.hijack();
    request.raw.destroy();
    return reply;
  }
}
