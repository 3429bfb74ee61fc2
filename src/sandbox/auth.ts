import { randomBytes, timingSafeEqual } from 'node:crypto';
import { JWT_BEARER_ASSERTION_TYPE, checkAssertion, claimedIssuer, importPublicKey, type PublicKey } from './assertion.js';
import type { SandboxClient } from './types.js';

/**
 * The sandbox's OAuth 2.0 token endpoint logic and bearer-token checks (docs/CHEKT-API.md#token-endpoint). Tokens are opaque random
 * strings held in memory with an expiry; nothing here does I/O.
 */

/** Scopes granted to every token: the `*:site_contacts` set seen in CHeKT's sample token (docs/CHEKT-API.md#token-endpoint). */
export const SANDBOX_SCOPE = 'read:site_contacts create:site_contacts update:site_contacts delete:site_contacts';

/** Successful token response (RFC 6749 §5.1; fields per docs/CHEKT-API.md#token-endpoint). `expires_in` is in seconds. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

/** Outcome of a token request. Failures use the RFC 6749 §5.2 body `{error, error_description}`. */
export type TokenOutcome =
  | { readonly ok: true; readonly clientId: string; readonly response: TokenResponse }
  | {
      readonly ok: false;
      readonly status: 400 | 401;
      readonly error: 'invalid_request' | 'unsupported_grant_type' | 'invalid_client';
      readonly description: string;
    };

/** Outcome of checking an `Authorization` header on a `/partner` request. */
export type BearerCheck = { readonly ok: true; readonly clientId: string } | { readonly ok: false; readonly reason: 'missing' | 'unknown' | 'expired' };

/** Options for {@link createTokenService}. */
export interface TokenServiceOptions {
  readonly clients: readonly SandboxClient[];
  /** Lifetime of issued tokens, seconds (`expires_in`). */
  readonly ttlSeconds: number;
  /** Clock, epoch milliseconds. */
  readonly now: () => number;
  /** How far in the future an assertion's `iat`/`nbf` may be, in seconds. Default 0 (none). */
  readonly assertionLeewaySeconds?: number;
}

/** Beyond this many stored tokens, expired ones are purged on the next issue. */
const TOKEN_PURGE_THRESHOLD = 10_000;
const BEARER_RE = /^Bearer\s+(\S+)\s*$/i;

/**
 * Builds a {@link TokenService}, importing every client's public key first.
 * @throws {Error} when a client id is empty or duplicated, or a `publicKeyPem` is unusable.
 */
export async function createTokenService(options: TokenServiceOptions): Promise<TokenService> {
  const keys = new Map<string, PublicKey>();
  const seen = new Set<string>();
  for (const c of options.clients) {
    if (c.clientId === '' || seen.has(c.clientId)) throw new Error(`sandbox: client id "${c.clientId}" is empty or duplicated`);
    seen.add(c.clientId);
    if (c.publicKeyPem !== undefined) keys.set(c.clientId, await importPublicKey(c.publicKeyPem, c.clientId));
  }
  return new TokenService(options, keys);
}

/** Issues and checks tokens. Build it with {@link createTokenService}. */
export class TokenService {
  private readonly clients: ReadonlyMap<string, SandboxClient>;
  private readonly tokens = new Map<string, { clientId: string; expiresAt: number }>();
  /** Assertion `jti`s already used, with their expiry (ms): a replayed assertion is refused, as Auth0 does. */
  private readonly usedJtis = new Map<string, number>();

  constructor(
    private readonly options: TokenServiceOptions,
    private readonly keys: ReadonlyMap<string, PublicKey>,
  ) {
    this.clients = new Map(options.clients.map((c) => [c.clientId, c]));
  }

  /** The known client a token request names (`client_id`, else the assertion's `iss`), for rate limiting. */
  claimedClientId(form: Record<string, unknown>): string | undefined {
    const assertion = str(form.client_assertion);
    const id = str(form.client_id) ?? (assertion === undefined ? undefined : claimedIssuer(assertion));
    return id !== undefined && this.clients.has(id) ? id : undefined;
  }

  /**
   * Handles a token request body (form or JSON). `grant_type=client_credentials` is required; the client
   * authenticates with `client_secret` (mode 1) or `client_assertion` (mode 2, `client_id` optional).
   */
  async issue(form: Record<string, unknown>): Promise<TokenOutcome> {
    if (str(form.grant_type) !== 'client_credentials') {
      return fail(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    }
    const assertion = str(form.client_assertion);
    const assertionType = str(form.client_assertion_type);
    let clientId: string | undefined;
    if (assertion !== undefined || assertionType !== undefined) {
      if (assertionType !== JWT_BEARER_ASSERTION_TYPE) {
        return fail(400, 'invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`);
      }
      if (assertion === undefined) return fail(400, 'invalid_request', 'client_assertion is required');
      const checked = await this.authenticateAssertion(assertion, str(form.client_id));
      if (typeof checked !== 'string') return checked;
      clientId = checked;
    } else {
      const checked = this.authenticateSecret(str(form.client_id), str(form.client_secret));
      if (typeof checked !== 'string') return checked;
      clientId = checked;
    }
    return { ok: true, clientId, response: this.mint(clientId) };
  }

  /** Checks `Authorization: Bearer <token>`. */
  check(authorization: string | undefined): BearerCheck {
    const token = authorization === undefined ? undefined : BEARER_RE.exec(authorization)?.[1];
    if (token === undefined) return { ok: false, reason: 'missing' };
    const entry = this.tokens.get(token);
    if (!entry) return { ok: false, reason: 'unknown' };
    if (entry.expiresAt <= this.options.now()) return { ok: false, reason: 'expired' };
    return { ok: true, clientId: entry.clientId };
  }

  /** Makes every issued token answer 401 `expired` from now on. */
  expireAll(): void {
    for (const entry of this.tokens.values()) entry.expiresAt = 0;
  }

  /** Forgets every issued token and used `jti`. */
  reset(): void {
    this.tokens.clear();
    this.usedJtis.clear();
  }

  private authenticateSecret(clientId: string | undefined, secret: string | undefined): string | TokenOutcome {
    if (clientId === undefined || secret === undefined) {
      return fail(401, 'invalid_client', 'client authentication required: client_id and client_secret, or client_assertion');
    }
    const client = this.clients.get(clientId);
    if (!client?.clientSecret || !safeEqual(client.clientSecret, secret)) {
      return fail(401, 'invalid_client', 'unknown client or wrong client_secret');
    }
    return clientId;
  }

  private async authenticateAssertion(assertion: string, formClientId: string | undefined): Promise<string | TokenOutcome> {
    const clientId = formClientId ?? claimedIssuer(assertion);
    if (clientId === undefined || !this.clients.has(clientId)) {
      return fail(401, 'invalid_client', 'unknown client (client_id or assertion iss)');
    }
    const now = this.options.now();
    const checked = await checkAssertion(assertion, clientId, this.keys.get(clientId), now, this.options.assertionLeewaySeconds ?? 0);
    if (!checked.ok) return fail(401, 'invalid_client', checked.reason);
    for (const [jti, exp] of this.usedJtis) if (exp <= now) this.usedJtis.delete(jti);
    const jti = String(checked.payload.jti);
    if (this.usedJtis.has(jti)) return fail(401, 'invalid_client', 'assertion jti already used');
    this.usedJtis.set(jti, (checked.payload.exp ?? 0) * 1000);
    return clientId;
  }

  private mint(clientId: string): TokenResponse {
    const now = this.options.now();
    if (this.tokens.size >= TOKEN_PURGE_THRESHOLD) {
      for (const [t, e] of this.tokens) if (e.expiresAt <= now) this.tokens.delete(t);
    }
    const accessToken = `sbx_${randomBytes(24).toString('base64url')}`;
    this.tokens.set(accessToken, { clientId, expiresAt: now + this.options.ttlSeconds * 1000 });
    return { access_token: accessToken, token_type: 'Bearer', expires_in: this.options.ttlSeconds, scope: SANDBOX_SCOPE };
  }
}

function fail(status: 400 | 401, error: 'invalid_request' | 'unsupported_grant_type' | 'invalid_client', description: string): TokenOutcome {
  return { ok: false, status, error, description };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
