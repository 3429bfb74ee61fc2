import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import ky, { TimeoutError } from 'ky';
import type { ChektAuthConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { parseErrorBody } from './errorBody.js';
import { ChektTokenError } from './errors/index.js';
import type { RateLimiter } from './rateLimiter.js';
import { networkCode, safeJson } from './http.js';
import { DEFAULT_TOKEN_TTL_SECONDS, parseTokenResponse } from './schemas.js';

/** RFC 7523 §2.2 client assertion type for `private_key_jwt`. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Lifetime of a signed client assertion, in seconds (chekt-api.md §1 sample: "expires in 5 min"). */
export const ASSERTION_TTL_SECONDS = 300;

/** Options of {@link TokenProvider}. */
export interface TokenProviderOptions {
  /** Token endpoint, e.g. `https://api.chekt.com/oauth/token` (config `CHEKT_TOKEN_URL`; chekt-api.md §1). */
  readonly tokenUrl: string;
  readonly auth: ChektAuthConfig;
  /** Timeout of one token request, in ms. */
  readonly timeoutMs: number;
  /** Renew this many seconds before `expires_in` runs out (config `CHEKT_TOKEN_REFRESH_SKEW_SECONDS`, default 60). */
  readonly refreshSkewSeconds: number;
  /** Lifetime assumed when the response has no usable `expires_in`, in seconds. Default 3600 (chekt-api.md §1). */
  readonly fallbackTtlSeconds?: number;
  /** When given, each token request takes a slot too (leave it out when the token host is not CHeKT's API host). */
  readonly rateLimiter?: RateLimiter;
  readonly logger: Logger;
  /** Clock, in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Called once per token request with its outcome (metrics). Must not throw. Default: none. */
  readonly onRenew?: (outcome: 'succeeded' | 'failed') => void;
}

interface CachedToken {
  readonly token: string;
  /** Epoch ms after which {@link TokenProvider.getToken} renews. */
  readonly refreshAt: number;
}

/**
 * OAuth 2.0 client-credentials tokens for CHeKT (seed: "Authentication: OAuth 2.0 Client Credentials Grant";
 * chekt-api.md §1 for both modes). Holds one cached token and at most one renewal in flight, shared by every
 * concurrent caller. Never logs the token, the secret or the assertion.
 *
 * - `client_secret`: form `grant_type=client_credentials&client_id&client_secret`.
 * - `private_key_jwt`: form `grant_type=client_credentials`, `client_id`, `client_assertion_type`
 *   (RFC 7523 jwt-bearer), `client_assertion`, `audience`. The assertion is RS256 with header `kid`, claims
 *   `iss`=`sub`=client id, `aud`=`audience`, `iat`, `exp`=`iat`+300 s, `jti`=UUID (the CHeKT Auth0 sample; the
 *   sample's `aud` is the Auth0 domain, configurable here only through the one `audience` value).
 *
 * A token is reused until `expires_in − refreshSkewSeconds`, but always for at least half its lifetime so a
 * skew larger than the lifetime cannot cause a renewal per call.
 */
export class TokenProvider {
  readonly #options: TokenProviderOptions;
  readonly #now: () => number;
  readonly #fallbackTtlSeconds: number;
  #cached: CachedToken | undefined;
  #inFlight: Promise<string> | undefined;
  #renewals = 0;
  #failures = 0;
  #signingKey: KeyObject | undefined;

  constructor(options: TokenProviderOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#fallbackTtlSeconds = options.fallbackTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  }

  /** Token requests sent to the token endpoint so far (successful or not). */
  get renewals(): number {
    return this.#renewals;
  }

  /** Token requests that failed. */
  get failures(): number {
    return this.#failures;
  }

  /**
   * A valid access token: the cached one, or the result of the renewal in flight, or a new one.
   * @throws {ChektTokenError} when the token endpoint fails (`retryable` for 5xx, 429, timeout and network).
   */
  getToken(): Promise<string> {
    const cached = this.#cached;
    if (cached && this.#now() < cached.refreshAt) return Promise.resolve(cached.token);
    return this.#renew();
  }

  /**
   * Called after CHeKT answered 401 to `staleToken`: renews unless another caller already replaced that token
   * (then returns the newer one), so N concurrent 401s for one token cause one renewal.
   * @throws {ChektTokenError} as {@link getToken}.
   */
  renew(staleToken: string): Promise<string> {
    if (this.#inFlight) return this.#inFlight;
    const cached = this.#cached;
    if (cached && cached.token !== staleToken) return Promise.resolve(cached.token);
    this.#cached = undefined;
    return this.#renew();
  }

  /** Drops the cached token (e.g. on credential rotation); the next {@link getToken} requests a new one. */
  invalidate(): void {
    this.#cached = undefined;
  }

  #renew(): Promise<string> {
    if (this.#inFlight) return this.#inFlight;
    const p = this.#fetchToken().finally(() => {
      this.#inFlight = undefined;
    });
    this.#inFlight = p;
    return p;
  }

  async #fetchToken(): Promise<string> {
    const { tokenUrl, auth, timeoutMs, logger, rateLimiter } = this.#options;
    await rateLimiter?.acquire();
    this.#renewals += 1;
    const started = this.#now();
    // Like every CHeKT request, the token request carries its own trace id (chekt-api.md §7).
    const traceId = randomUUID();
    let status: number | undefined;
    try {
      const form = await this.#form();
      const res = await ky.post(tokenUrl, {
        body: form,
        headers: { 'x-partner-trace-id': traceId },
        timeout: timeoutMs,
        retry: 0,
        throwHttpErrors: false,
      });
      status = res.status;
      const text = await res.text();
      if (!res.ok) {
        const body = parseErrorBody(text);
        throw new ChektTokenError({ status, code: body.code, detail: body.message, traceId });
      }
      const token = parseTokenResponse(safeJson(text), this.#fallbackTtlSeconds);
      if (!token) throw new ChektTokenError({ status, detail: 'response has no access_token' });
      const ttlMs = token.expiresInSeconds * 1000;
      const reuseMs = Math.max(ttlMs - this.#options.refreshSkewSeconds * 1000, ttlMs / 2);
      this.#cached = { token: token.accessToken, refreshAt: started + reuseMs };
      logger.debug(
        { endpoint: 'POST token', traceId, mode: auth.mode, status, durationMs: this.#now() - started, expiresInSeconds: token.expiresInSeconds, usedFallbackTtl: token.usedFallbackTtl },
        'chekt token renewed',
      );
      this.#options.onRenew?.('succeeded');
      return token.accessToken;
    } catch (e) {
      this.#failures += 1;
      const err = toTokenError(e, status, timeoutMs);
      logger.warn(
        { endpoint: 'POST token', traceId, mode: auth.mode, status: err.status, code: err.code, retryable: err.retryable, durationMs: this.#now() - started },
        'chekt token request failed',
      );
      this.#options.onRenew?.('failed');
      throw err;
    }
  }

  async #form(): Promise<URLSearchParams> {
    const { auth } = this.#options;
    if (auth.mode === 'client_secret') {
      return new URLSearchParams({ grant_type: 'client_credentials', client_id: auth.clientId, client_secret: auth.clientSecret });
    }
    return new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: auth.clientId,
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: await this.#assertion(auth),
      audience: auth.audience,
    });
  }

  async #assertion(auth: Extract<ChektAuthConfig, { mode: 'private_key_jwt' }>): Promise<string> {
    try {
      // node:crypto reads both PKCS#8 ("BEGIN PRIVATE KEY") and PKCS#1 ("BEGIN RSA PRIVATE KEY") PEM.
      this.#signingKey ??= createPrivateKey(auth.privateKeyPem);
      const iat = Math.floor(this.#now() / 1000);
      return await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: auth.keyId, typ: 'JWT' })
        .setIssuer(auth.clientId)
        .setSubject(auth.clientId)
        .setAudience(auth.audience)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ASSERTION_TTL_SECONDS)
        .setJti(randomUUID())
        .sign(this.#signingKey);
    } catch (e) {
      // A bad key is configuration, not transient. The message of a key error never contains the key itself.
      throw new ChektTokenError({ transient: false, code: 'invalid_private_key', detail: 'cannot sign client assertion', cause: e });
    }
  }
}

function toTokenError(e: unknown, status: number | undefined, timeoutMs: number): ChektTokenError {
  if (e instanceof ChektTokenError) return e;
  if (e instanceof TimeoutError || (e as { name?: unknown } | null)?.name === 'TimeoutError') return new ChektTokenError({ code: 'timeout', detail: `no response within ${timeoutMs} ms` });
  // fetch() rejects with TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' | 'ECONNRESET' | ... } }).
  // Also reached when the body is cut off after the status line: transient whatever the status.
  return new ChektTokenError({ status, code: networkCode(e) ?? 'network_error', detail: String((e as { message?: unknown } | null)?.message ?? e), transient: true, cause: e });
}
