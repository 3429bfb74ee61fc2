import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenService } from './auth.js';
import type { FaultInjector } from './faults.js';
import type { RateLimitDecision, RateLimiter } from './rateLimit.js';
import type { RequestRecorder } from './recorder.js';
import type { SandboxStore } from './store.js';

/** Everything the sandbox routes share; built once per sandbox by `startSandbox` (no module state). */
export interface SandboxContext {
  readonly store: SandboxStore;
  readonly tokens: TokenService;
  readonly limiter: RateLimiter;
  readonly faults: FaultInjector;
  readonly recorder: RequestRecorder;
  /** Unknown dealer/site: register on first use (true) or answer 404 (false). */
  readonly autoCreateSites: boolean;
  /** Arrival time (epoch ms) per request, for `SandboxRequestRecord.at`. */
  readonly arrivals: WeakMap<FastifyRequest, number>;
  /** API requests received and not yet answered (or dropped); inspection routes excluded. */
  readonly inFlight: { count: number };
  /** Aborted by `close()`, so injected latency never outlives the server (no open timers in tests). */
  readonly shutdown: AbortSignal;
  /**
   * Added to every `contact_id` the API shows and subtracted from every path id (default 0n): with
   * `9007199254740992n` the first contact is `9007199254740993`, beyond what a JSON number parsed into a
   * double keeps exactly. The store keeps its small ids; only the wire sees the large ones.
   */
  readonly contactIdOffset: bigint;
  /** `external_contact_id`s whose `contact_id` the API writes as a fraction (`<n>.5`), an unusable id. */
  readonly fractionalContactIds: ReadonlySet<string>;
  /** The sandbox's clock, epoch ms (the real clock plus `clockOffsetMs`); stamps the token endpoint's `Date`. */
  readonly now: () => number;
  /** Send `X-RateLimit-*` on limited responses (default true); false imitates a CHeKT that sends only `Retry-After`. */
  readonly rateLimitHeaders?: boolean;
}

/**
 * Sets `X-RateLimit-Limit` (per minute), `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds), and on
 * refusal `Retry-After` (whole seconds), as docs/CHEKT-API.md#rate-limits describes. With `limitHeaders` false only `Retry-After` is sent
 * (whether /partner/v1 sends the X-RateLimit headers is not documented, docs/CHEKT-API.md#rate-limits).
 */
export function applyRateLimitHeaders(reply: FastifyReply, d: RateLimitDecision, limitHeaders = true): void {
  if (limitHeaders) {
    reply.header('x-ratelimit-limit', String(d.limit));
    reply.header('x-ratelimit-remaining', String(d.remaining));
    reply.header('x-ratelimit-reset', String(d.resetAtSeconds));
  }
  if (!d.allowed) reply.header('retry-after', String(d.retryAfterSeconds));
}
