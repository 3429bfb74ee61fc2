import { decodeJwt, decodeProtectedHeader, errors as joseErrors, importSPKI, jwtVerify, type JWTPayload } from 'jose';

/**
 * Client-assertion checks for `private_key_jwt` (RFC 7523 §3; docs/CHEKT-API.md#token-endpoint): an RS256 JWT with
 * header `kid` and claims `iss` = `sub` = client_id, `aud`, `iat`, `exp`, `jti`. The sandbox accepts any `aud`
 * (CHeKT's audience is handed over at onboarding and unknown here) but requires it to be present.
 */

/** `client_assertion_type` value required with `client_assertion` (RFC 7523 §2.2). */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A public key as jose imports it. */
export type PublicKey = Awaited<ReturnType<typeof importSPKI>>;

/** Imports a PEM SPKI RSA public key for RS256. @throws {Error} when the PEM is not a usable public key. */
export async function importPublicKey(pem: string, clientId: string): Promise<PublicKey> {
  try {
    return await importSPKI(pem, 'RS256');
  } catch (err) {
    throw new Error(`sandbox: client ${clientId}: publicKeyPem is not a PEM SPKI RSA public key (${(err as Error).message})`, { cause: err });
  }
}

/** What an assertion claims, read without verification (to find the client, also for rate limiting). */
export function claimedIssuer(assertion: string): string | undefined {
  try {
    const { iss } = decodeJwt(assertion);
    return typeof iss === 'string' && iss !== '' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** Result of {@link checkAssertion}: the verified claims, or why the client is refused (`invalid_client`). */
export type AssertionCheck = { readonly ok: true; readonly payload: JWTPayload } | { readonly ok: false; readonly reason: string };

/**
 * Checks an assertion for `clientId`. With `key`, the signature is verified (RS256 only); without one, claims
 * are only decoded (a sandbox client with no registered key). Either way: `kid` header present, `iss` and `sub`
 * equal to `clientId`, `aud`, `iat`, `jti` present, `exp` in the future by `nowMs`, and neither `iat` nor `nbf`
 * more than `leewaySeconds` in the future ("issued in the future": what a token server whose clock is behind
 * the client's answers; RFC 7519 §4.1.5, Auth0 refuses such assertions too).
 */
export async function checkAssertion(assertion: string, clientId: string, key: PublicKey | undefined, nowMs: number, leewaySeconds = 0): Promise<AssertionCheck> {
  let payload: JWTPayload;
  try {
    const header = decodeProtectedHeader(assertion);
    if (typeof header.kid !== 'string' || header.kid === '') return { ok: false, reason: 'assertion header has no kid' };
    payload = key
      ? (
          await jwtVerify(assertion, key, {
            algorithms: ['RS256'],
            currentDate: new Date(nowMs),
            clockTolerance: leewaySeconds,
            requiredClaims: ['iss', 'sub', 'aud', 'iat', 'exp', 'jti'],
          })
        ).payload
      : decodeJwt(assertion);
  } catch (err) {
    return { ok: false, reason: describeJoseError(err) };
  }
  if (payload.iss !== clientId || payload.sub !== clientId) return { ok: false, reason: 'iss and sub must both equal client_id' };
  for (const claim of ['aud', 'iat', 'jti'] as const) {
    if (payload[claim] === undefined) return { ok: false, reason: `assertion has no ${claim} claim` };
  }
  if (typeof payload.exp !== 'number') return { ok: false, reason: 'assertion has no exp claim' };
  const latest = Math.floor(nowMs / 1000) + leewaySeconds;
  if (typeof payload.iat === 'number' && payload.iat > latest) return { ok: false, reason: 'assertion iat is in the future (issued in the future)' };
  if (typeof payload.nbf === 'number' && payload.nbf > latest) return { ok: false, reason: 'assertion nbf is in the future (not yet valid)' };
  if (payload.exp * 1000 <= nowMs) return { ok: false, reason: 'assertion expired' };
  return { ok: true, payload };
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'assertion expired';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'assertion signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'assertion must be signed with RS256';
  if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf') return 'assertion nbf is in the future (not yet valid)';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `assertion claim ${err.claim}: ${err.reason}`;
  return 'assertion is not a valid JWT';
}
