import basicAuth from '@fastify/basic-auth';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import { apiError, handleError } from './errors.js';

/** One user's HTTP Basic credentials. */
export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/**
 * Who may use the dashboard, `/api` and `/metrics`: the admin (`ADMIN_USER`, `ADMIN_PASSWORD`) is the operator
 * (reads, retries, promotes and cleans jobs, `POST /api/resync`); the optional viewer (`VIEWER_USER`,
 * `VIEWER_PASSWORD`) only reads.
 */
export interface HttpCredentials {
  readonly admin: Credentials;
  readonly viewer?: Credentials | undefined;
}

/**
 * The HTTP users of a config loaded with `requireAdmin` (which guarantees the admin).
 * @throws {Error} when `ADMIN_USER` or `ADMIN_PASSWORD` is missing.
 */
export function credentialsFromConfig(http: Config['http']): HttpCredentials {
  if (!http.adminUser || !http.adminPassword) throw new Error('ADMIN_USER and ADMIN_PASSWORD are required to serve HTTP');
  const viewer = http.viewerUser && http.viewerPassword ? { user: http.viewerUser, password: http.viewerPassword } : undefined;
  return { admin: { user: http.adminUser, password: http.adminPassword }, viewer };
}

/** The role a request authenticated as. */
export type Role = 'operator' | 'viewer';

/** Methods a viewer may use, and that need no CSRF check (RFC 9110 §9.2.1 safe methods routed here). */
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** The role each authenticated request has (set by basic-auth's `validate`, read by the hook right after). */
const roles = new WeakMap<FastifyRequest, Role>();
/** The user name each authenticated request proved (for the audit trail). */
const users = new WeakMap<FastifyRequest, string>();

/** Who sent an authenticated request: its user name and role; undefined before (or without) authentication. */
export function requestActor(req: FastifyRequest): { user: string; role: Role } | undefined {
  const role = roles.get(req);
  const user = users.get(req);
  return role && user !== undefined ? { user, role } : undefined;
}

/**
 * Puts every request reaching `scope` (its 404s included) behind HTTP Basic auth (RFC 7617) and the role and CSRF
 * rules, in an `onRequest` hook, before the body is read:
 * 1. no or wrong credentials → 401 `unauthorized` with `WWW-Authenticate: Basic realm="chekt-contact-sync"`;
 * 2. an unsafe method (not GET/HEAD) sent cross-site (see {@link isCrossSite}) → 403 `csrf`;
 * 3. an unsafe method from the viewer → 403 `forbidden`.
 */
export async function requireAuth(scope: FastifyInstance, credentials: HttpCredentials): Promise<void> {
  await scope.register(basicAuth, {
    authenticate: { realm: 'chekt-contact-sync' },
    validate: async (user, password, req) => {
      const role = roleFor(user, password, credentials);
      if (!role) throw new Error('invalid credentials');
      roles.set(req, role);
      users.set(req, user);
    },
  });
  // Answer here rather than through the error handler, which a child plugin may replace (bull-board does).
  scope.addHook('onRequest', (req, reply, done) => {
    scope.basicAuth(req, reply, (err) => {
      if (err) return void handleError(err, req, reply);
      if (SAFE_METHODS.has(req.method)) return done();
      if (isCrossSite(req)) return void refuse(reply, 'csrf', 'cross-site request refused: its Origin or Sec-Fetch-Site does not match this host');
      if (roles.get(req) !== 'operator') return void refuse(reply, 'forbidden', 'the viewer role may only read (GET, HEAD)');
      done();
    });
  });
}

function refuse(reply: FastifyReply, code: 'csrf' | 'forbidden', message: string): void {
  void reply.code(403).send(apiError(code, message));
}

/**
 * The role of a user and password, or undefined. Both credential pairs are always compared (in constant time,
 * {@link credentialsMatch}), so the time taken does not tell whether a user name exists or which role it has.
 */
export function roleFor(user: string, password: string, credentials: HttpCredentials): Role | undefined {
  const { admin, viewer } = credentials;
  const isAdmin = credentialsMatch(user, password, admin.user, admin.password);
  // Without a viewer, compare against the admin again so the cost is the same; the result is then ignored.
  const viewerMatch = credentialsMatch(user, password, viewer?.user ?? admin.user, viewer?.password ?? admin.password);
  if (isAdmin) return 'operator';
  return viewer && viewerMatch ? 'viewer' : undefined;
}

/**
 * CSRF defence for unsafe methods, by OWASP's "Verify Origin with standard headers" (CSRF Prevention Cheat Sheet)
 * plus Fetch Metadata: true when `Origin` is present and its host differs from the request's `Host`, or when
 * `Sec-Fetch-Site` is present and is neither `same-origin` nor `none` (user-initiated). Browsers send HTTP Basic
 * credentials with any request to this host, so a form on another site could otherwise retry, clean or resync.
 * Requests with neither header (curl, scripts, Prometheus) pass: they are not a browser acting for someone else.
 * Not a synchronizer token: bull-board's UI makes its own requests and cannot send one, and browsers always set
 * `Origin` on cross-site non-GET requests. `Host` is the header as received (fastify `trustProxy` is off), so a
 * reverse proxy in front must keep the original `Host` (nginx `proxy_set_header Host $host`).
 */
export function isCrossSite(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined && hostOf(origin) !== req.headers.host?.toLowerCase()) return true;
  const site = req.headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/** The `host[:port]` of an Origin value, lowercased; undefined for `null` or anything unparsable. */
function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Constant-time credential check for HTTP Basic (RFC 7617). Both sides are hashed first so the comparison
 * takes the same time whatever the lengths; user and password are both always compared.
 */
export function credentialsMatch(user: string, password: string, expectedUser: string, expectedPassword: string): boolean {
  const userOk = timingSafeEqual(digest(user), digest(expectedUser));
  const passwordOk = timingSafeEqual(digest(password), digest(expectedPassword));
  return userOk && passwordOk;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
