import { createHash, timingSafeEqual } from 'node:crypto';

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
