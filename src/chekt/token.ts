import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import ky, { TimeoutError } from 'ky';
import type { ChektAuthConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { createScrubber } from '../scrub.js';
import { describeSkew, isReportableSkew, looksLikeClockComplaint, measureSkewMs } from './clockSkew.js';
import { parseErrorBody } from './errorBody.js';
import { ChektTokenError } from './errors/index.js';
import type { RateLimiter } from './rateLimiter.js';
import { networkCode, safeJson } from './http.js';
import { DEFAULT_TOKEN_TTL_SECONDS, parseTokenResponse } from './schemas.js';
import { TokenBackoff } from './tokenBackoff.js';

/** RFC 7523 §2.2 client assertion type for `private_key_jwt`. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/**
 * Lifetime of a signed client assertion, `exp − iat`, in seconds (CHeKT's sample: "expires in 5 min"). With the
 * clock margin, `exp` is `now + ASSERTION_TTL_SECONDS − margin`: the assertion stays short-lived.
 */
export const ASSERTION_TTL_SECONDS = 300;
/** Default back-dating of `iat`/`nbf`, in seconds (config `CHEKT_ASSERTION_CLOCK_MARGIN_SECONDS`). */
export const DEFAULT_ASSERTION_CLOCK_MARGIN_SECONDS = 30;

/** Options of {@link TokenProvider}. */
export interface TokenProviderOptions {
  /** Token endpoint, e.g. `https://api.chekt.com/oauth/token` (config `CHEKT_TOKEN_URL`; docs/CHEKT-API.md#token-endpoint). */
  readonly tokenUrl: string;
  readonly auth: ChektAuthConfig;
  /** Timeout of one token request, in ms. */
  readonly timeoutMs: number;
  /** Renew this many seconds before `expires_in` runs out (config `CHEKT_TOKEN_REFRESH_SKEW_SECONDS`, default 60). */
  readonly refreshSkewSeconds: number;
  /** Lifetime assumed when the response has no usable `expires_in`, in seconds. Default 3600 (docs/CHEKT-API.md#token-endpoint). */
  readonly fallbackTtlSeconds?: number;
  /** When given, each token request takes a slot too (leave it out when the token host is not CHeKT's API host). */
  readonly rateLimiter?: RateLimiter;
  readonly logger: Logger;
  /** Clock, in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Called once per token request with its outcome (metrics). Must not throw. Default: none. */
  readonly onRenew?: (outcome: 'succeeded' | 'failed') => void;
  /**
   * `iat` and `nbf` of a client assertion are this many seconds before now, so a token server whose clock is
   * behind ours by less than that still accepts it. Default {@link DEFAULT_ASSERTION_CLOCK_MARGIN_SECONDS}.
   */
  readonly clockMarginSeconds?: number;
  /**
   * After a transient failure (5xx, 429, timeout, network), no token request is sent for a growing wait:
   * `min(backoffMaxMs, backoffMs × 2^(n−1))` for the n-th failure in a row, half of it fixed and half random.
   * Callers meanwhile get a retryable {@link ChektTokenError} at once (./tokenBackoff.ts). Defaults 2000 and
   * 60000, in ms.
   */
  readonly backoffMs?: number;
  readonly backoffMaxMs?: number;
  /** Random source in [0, 1) for the backoff jitter. Default `Math.random`. */
  readonly random?: () => number;
}

interface CachedToken {
  readonly token: string;
  /** Epoch ms after which {@link TokenProvider.getToken} renews. */
  readonly refreshAt: number;
}

/**
 * OAuth 2.0 client-credentials tokens for CHeKT (CHeKT's Contacts page: "OAuth 2.0 Client Credentials Grant";
 * docs/CHEKT-API.md#token-endpoint for both modes). Holds one cached token and at most one renewal in flight, shared by every
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
 *
 * Clock skew (docs/CHEKT-AUTH-AND-IDS.md): `iat`/`nbf` are back-dated by `clockMarginSeconds`. When the token
 * server refuses an assertion (400/401) and its `Date` header shows a skew of 5 s or more, the provider learns
 * the offset, logs it, and signs one more assertion on the server's time; an error that remains says so.
 * Transient failures back off (see {@link TokenProviderOptions.backoffMs}). Error text is scrubbed of the secret,
 * the assertion and any credential shape (../scrub.ts) before it reaches an error, a log or the ledger.
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
  readonly #backoff: TokenBackoff;
  /** The assertion of the latest request, scrubbed from that request's error text. */
  #lastAssertion: string | undefined;
  /** The token server's clock minus ours, in ms, once a reportable skew was measured; else 0. */
  #clockOffsetMs = 0;
  #skewNoticed = false;

  constructor(options: TokenProviderOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#fallbackTtlSeconds = options.fallbackTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    this.#backoff = new TokenBackoff({
      ...(options.backoffMs === undefined ? {} : { baseMs: options.backoffMs }),
      ...(options.backoffMaxMs === undefined ? {} : { maxMs: options.backoffMaxMs }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
  }

  /** The clock offset applied to assertions (server minus ours, ms): 0 until a skew was detected. */
  get clockOffsetMs(): number {
    return this.#clockOffsetMs;
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
    const blocked = this.#backoff.blocked(this.#now());
    if (blocked) return Promise.reject(blocked);
    const p = this.#fetchToken()
      .then(
        (token) => {
          this.#backoff.record(undefined, this.#now());
          return token;
        },
        (err: ChektTokenError) => {
          this.#backoff.record(err, this.#now());
          throw err;
        },
      )
      .finally(() => {
        this.#inFlight = undefined;
      });
    this.#inFlight = p;
    return p;
  }

  async #fetchToken(): Promise<string> {
    const { auth, logger, rateLimiter } = this.#options;
    await rateLimiter?.acquire();
    const started = this.#now();
    // Like every CHeKT request, the token request carries its own trace id (docs/CHEKT-API.md#trace-ids).
    const traceId = randomUUID();
    let status: number | undefined;
    try {
      let answer = await this.#post(traceId);
      status = answer.status;
      if (!answer.ok && this.#learnSkew(answer)) {
        // The server refused an assertion signed on a clock it disagrees with: sign once more on its time.
        this.#failures += 1;
        answer = await this.#post(traceId);
        status = answer.status;
      }
      if (!answer.ok) throw this.#refusal(answer, traceId);
      this.#noticeSkew(answer.skewMs);
      const token = parseTokenResponse(safeJson(answer.text), this.#fallbackTtlSeconds);
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
      const err = toTokenError(e, status, this.#options.timeoutMs, this.#scrubber());
      logger.warn(
        { endpoint: 'POST token', traceId, mode: auth.mode, status: err.status, code: err.code, retryable: err.retryable, durationMs: this.#now() - started, reason: err.message },
        'chekt token request failed',
      );
      this.#options.onRenew?.('failed');
      throw err;
    }
  }

  /** One token request: the form (with a fresh assertion), the answer, and the skew its `Date` header shows. */
  async #post(traceId: string): Promise<TokenAnswer> {
    this.#renewals += 1;
    const { tokenUrl, timeoutMs } = this.#options;
    const { form, assertion } = await this.#form();
    this.#lastAssertion = assertion;
    const sentAt = this.#now();
    const res = await ky.post(tokenUrl, { body: form, headers: { 'x-partner-trace-id': traceId }, timeout: timeoutMs, retry: 0, throwHttpErrors: false });
    const text = await res.text();
    return { ok: res.ok, status: res.status, text, skewMs: measureSkewMs(res.headers.get('date'), sentAt, this.#now()) };
  }

  /**
   * After a refusal: whether a skew explains it and was not corrected yet (then the offset is learned and
   * logged, and the caller retries once). Only assertions carry our clock; a secret does not.
   */
  #learnSkew(answer: TokenAnswer): boolean {
    if (this.#options.auth.mode !== 'private_key_jwt' || (answer.status !== 400 && answer.status !== 401)) return false;
    if (!isReportableSkew(answer.skewMs)) return false;
    if (!isReportableSkew(answer.skewMs - this.#clockOffsetMs)) return false;
    this.#clockOffsetMs = Math.round(answer.skewMs);
    this.#options.logger.warn(
      { endpoint: 'POST token', status: answer.status, clockSkewMs: this.#clockOffsetMs },
      `clock skew: ${describeSkew(answer.skewMs)}; the token server refused the assertion, signing again on its time`,
    );
    return true;
  }

  /** Warns once per provider when an accepted answer still shows a skew: it is absorbed now, but may not be later. */
  #noticeSkew(skewMs: number | undefined): void {
    if (this.#skewNoticed || skewMs === undefined || !isReportableSkew(skewMs - this.#clockOffsetMs)) return;
    this.#skewNoticed = true;
    this.#options.logger.warn(
      { endpoint: 'POST token', clockSkewMs: Math.round(skewMs), clockMarginSeconds: this.#margin() },
      `clock skew: ${describeSkew(skewMs)}; the token was issued (assertions are back-dated ${this.#margin()} s)`,
    );
  }

  /** The error for a refused token request, scrubbed, with the clock named when the clock is the likely cause. */
  #refusal(answer: TokenAnswer, traceId: string): ChektTokenError {
    const body = parseErrorBody(this.#scrubber()(answer.text));
    const notes: string[] = [];
    if (isReportableSkew(answer.skewMs)) notes.push(describeSkew(answer.skewMs));
    else if (this.#options.auth.mode === 'private_key_jwt' && looksLikeClockComplaint(body.message)) {
      notes.push(`the token server blames the assertion's time: check this machine's clock (NTP); iat/nbf are back-dated ${this.#margin()} s`);
    }
    const detail = [body.message, ...notes].filter(Boolean).join('; ') || undefined;
    return new ChektTokenError({ status: answer.status, code: body.code, detail, traceId });
  }

  /** Scrubs the configured secret and the last assertion sent, in any encoding, plus credential shapes. */
  #scrubber(): (text: string) => string {
    const { auth } = this.#options;
    return createScrubber([auth.mode === 'client_secret' ? auth.clientSecret : undefined, this.#lastAssertion]);
  }

  #margin(): number {
    return this.#options.clockMarginSeconds ?? DEFAULT_ASSERTION_CLOCK_MARGIN_SECONDS;
  }

  async #form(): Promise<{ form: URLSearchParams; assertion: string | undefined }> {
    const { auth } = this.#options;
    if (auth.mode === 'client_secret') {
      return { form: new URLSearchParams({ grant_type: 'client_credentials', client_id: auth.clientId, client_secret: auth.clientSecret }), assertion: undefined };
    }
    const assertion = await this.#assertion(auth);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: auth.clientId,
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: assertion,
      audience: auth.audience,
    });
    return { form, assertion };
  }

  /**
   * RS256 assertion. `iat` = `nbf` = now − margin, `exp` = `iat` + {@link ASSERTION_TTL_SECONDS}; "now" is the
   * token server's time when a skew was learned (our clock plus {@link clockOffsetMs}).
   */
  async #assertion(auth: Extract<ChektAuthConfig, { mode: 'private_key_jwt' }>): Promise<string> {
    try {
      // node:crypto reads both PKCS#8 ("BEGIN PRIVATE KEY") and PKCS#1 ("BEGIN RSA PRIVATE KEY") PEM.
      this.#signingKey ??= createPrivateKey(auth.privateKeyPem);
      const iat = Math.floor((this.#now() + this.#clockOffsetMs) / 1000) - this.#margin();
      return await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: auth.keyId, typ: 'JWT' })
        .setIssuer(auth.clientId)
        .setSubject(auth.clientId)
        .setAudience(auth.audience)
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + ASSERTION_TTL_SECONDS)
        .setJti(randomUUID())
        .sign(this.#signingKey);
    } catch (e) {
      // A bad key is configuration, not transient. The message of a key error never contains the key itself.
      throw new ChektTokenError({ transient: false, code: 'invalid_private_key', detail: 'cannot sign client assertion', cause: e });
    }
  }
}

/** One answer of the token endpoint. */
interface TokenAnswer {
  readonly ok: boolean;
  readonly status: number;
  readonly text: string;
  /** Server clock minus ours, in ms, from its `Date` header; undefined without one. */
  readonly skewMs: number | undefined;
}

function toTokenError(e: unknown, status: number | undefined, timeoutMs: number, scrub: (text: string) => string): ChektTokenError {
  if (e instanceof ChektTokenError) return e;
  if (e instanceof TimeoutError || (e as { name?: unknown } | null)?.name === 'TimeoutError') return new ChektTokenError({ code: 'timeout', detail: `no response within ${timeoutMs} ms` });
  // fetch() rejects with TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' | 'ECONNRESET' | ... } }).
  // Also reached when the body is cut off after the status line: transient whatever the status.
  return new ChektTokenError({ status, code: networkCode(e) ?? 'network_error', detail: scrub(String((e as { message?: unknown } | null)?.message ?? e)), transient: true, cause: e });
}
