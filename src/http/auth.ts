import basicAuth from '@fastify/basic-auth';
import type { FastifyInstance } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { handleError } from './errors.js';

/** The admin's HTTP Basic credentials (`ADMIN_USER`, `ADMIN_PASSWORD`). */
export interface AdminCredentials {
  readonly user: string;
  readonly password: string;
}

/**
 * Puts every request reaching `scope` behind HTTP Basic admin auth (RFC 7617), its 404s included: without
 * valid credentials the `onRequest` hook answers 401 `unauthorized` with `WWW-Authenticate: Basic realm="chekt-contact-sync"`,
 * before the body is read.
 */
export async function requireAdmin(scope: FastifyInstance, credentials: AdminCredentials): Promise<void> {
  await scope.register(basicAuth, {
    authenticate: { realm: 'chekt-contact-sync' },
    validate: async (user, password) => {
      if (!credentialsMatch(user, password, credentials.user, credentials.password)) throw new Error('invalid credentials');
    },
  });
  // Answer the 401 here rather than through the error handler, which a child plugin may replace (bull-board does).
  scope.addHook('onRequest', (req, reply, done) => {
    scope.basicAuth(req, reply, (err) => (err ? void handleError(err, req, reply) : done()));
  });
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
