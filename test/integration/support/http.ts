import type { FastifyInstance } from 'fastify';
import type { App } from '../../../src/app.js';
import type { HttpCredentials } from '../../../src/http/auth.js';
import { buildHttpServer } from '../../../src/http/server.js';

/** HTTP test helpers: the service's server on a random port, Basic auth headers, and the routes it serves. */

/** The admin (operator) and viewer the HTTP tests use; passwords meet the 12-character minimum. */
export const CREDENTIALS = {
  admin: { user: 'ops', password: 'correct horse battery' },
  viewer: { user: 'watcher', password: 'read-only staple' },
} as const satisfies HttpCredentials;

/** A running server and its base URL (`http://127.0.0.1:<port>`). */
export interface RunningServer {
  readonly server: FastifyInstance;
  readonly base: string;
}

/** Builds the service's HTTP server over `app` and listens on 127.0.0.1, on a random port. */
export async function startHttp(app: App, credentials: HttpCredentials = CREDENTIALS): Promise<RunningServer> {
  const server = await buildHttpServer(app, credentials);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const addr = server.server.address();
  return { server, base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` };
}

/**
 * Scrapes `GET /metrics` at `base` with the viewer's credentials and returns `name{labels} value` lines as a map
 * (comments dropped). Throws unless it answers 200 in Prometheus text format.
 */
export async function scrapeMetrics(base: string): Promise<Map<string, number>> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: basic(CREDENTIALS.viewer.user, CREDENTIALS.viewer.password) } });
  if (res.status !== 200 || !/^text\/plain; version=0\.0\.4/.test(res.headers.get('content-type') ?? '')) throw new Error(`GET /metrics answered ${res.status} ${res.headers.get('content-type')}`);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^(\S+(?:\{.*\})?) (\S+)$/.exec(line);
    if (m && !line.startsWith('#')) samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

/** An `Authorization: Basic …` header value (RFC 7617). */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** One route: a method and its path pattern (`/api/runs/:id`). */
export interface RouteEntry {
  readonly method: string;
  readonly path: string;
}

/**
 * Every route the server serves, read from `printRoutes({ commonPrefix: false })`. That tree prints one path
 * segment per line, indented four characters per level, with the methods in parentheses on nodes that have
 * handlers; a full path is the concatenation of its ancestors' segments.
 */
export function listRoutes(server: FastifyInstance): RouteEntry[] {
  const routes: RouteEntry[] = [];
  const stack: string[] = [];
  for (const line of server.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/u.exec(line);
    if (!m) continue;
    const depth = [...m[1]!].length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    for (const method of m[3]?.split(', ') ?? []) routes.push({ method, path: stack.join('') });
  }
  return routes;
}
