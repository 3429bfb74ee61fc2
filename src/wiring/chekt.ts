import { createHash } from 'node:crypto';
import { createChektClient, type ChektClient } from '../chekt/client.js';
import { createRedisRateLimiter, createUnlimitedRateLimiter, type RateLimiter } from '../chekt/rateLimiter.js';
import { TokenProvider } from '../chekt/token.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { RedisClient } from '../queue/connection.js';

/** The CHeKT side of the app: the shared rate limits, the token provider and the client. */
export interface ChektParts {
  readonly rateLimiter: RateLimiter;
  /** Paces a scheduled reconcile's list calls (`RECONCILE_RATE_SHARE_PERCENT` of the rate limit). */
  readonly reconcileLimiter: RateLimiter;
  readonly tokens: TokenProvider;
  readonly chekt: ChektClient;
}

/**
 * Builds the CHeKT parts from the config. `metrics()` is called only when a call, a wait or a token renewal is
 * counted (after the app is built). `signal` aborts every waiting and new request (the app is stopping).
 * `unlimitedRate`: no shared rate limit (tests that measure something else).
 */
export function createChektParts(options: { config: Config; logger: Logger; redis: RedisClient; signal: AbortSignal; metrics: () => Metrics; unlimitedRate?: boolean }): ChektParts {
  const { config, logger, redis, metrics } = options;
  const onWait = (ms: number) => metrics().rateLimitWait.inc(ms / 1000);
  const key = rateLimitKey(config);
  const rateLimiter = options.unlimitedRate ? createUnlimitedRateLimiter({ onWait }) : createRedisRateLimiter({ redis, key, perMinute: config.chekt.rateLimitPerMinute, onWait });
  const reconcileLimiter = options.unlimitedRate
    ? createUnlimitedRateLimiter()
    : createRedisRateLimiter({ redis, key: `${key}:reconcile`, perMinute: Math.max(1, Math.floor((config.chekt.rateLimitPerMinute * config.sync.reconcileRateSharePercent) / 100)) });
  const tokens = new TokenProvider({
    tokenUrl: config.chekt.tokenUrl,
    auth: config.chekt.auth,
    timeoutMs: config.chekt.timeoutMs,
    refreshSkewSeconds: config.chekt.tokenRefreshSkewSeconds,
    clockMarginSeconds: config.chekt.assertionClockMarginSeconds,
    backoffMs: config.chekt.tokenBackoffMs,
    backoffMaxMs: config.chekt.tokenBackoffMaxMs,
    // Token calls count against CHeKT's budget only when CHeKT's API host serves them (not an Auth0 tenant).
    ...(new URL(config.chekt.tokenUrl).host === new URL(config.chekt.apiUrl).host ? { rateLimiter } : {}),
    logger: logger.child({ component: 'chekt-token' }),
    onRenew: (outcome) => metrics().tokenRenewals.inc({ outcome }),
  });
  const chekt = createChektClient({
    apiUrl: config.chekt.apiUrl,
    tokens,
    rateLimiter,
    timeoutMs: config.chekt.timeoutMs,
    maxRetryAfterMs: config.chekt.maxRetryAfterSeconds * 1000,
    maxRateLimitedRetries: config.chekt.maxRateLimitedRetries,
    logger: logger.child({ component: 'chekt' }),
    signal: options.signal,
    onCall: (i) => {
      metrics().chektCalls.inc({ endpoint: i.endpoint, status: i.status === undefined ? 'none' : String(i.status) });
      metrics().chektCallDuration.observe({ endpoint: i.endpoint }, i.durationMs / 1000);
    },
  });
  return { rateLimiter, reconcileLimiter, tokens, chekt };
}

/**
 * Redis key of the shared CHeKT rate limit. CHeKT counts requests per client (docs/CHEKT-API.md#rate-limits), so the key
 * is derived from the API URL and client id, not from `QUEUE_PREFIX`: two deployments with different
 * prefixes but one CHeKT client still share one budget.
 */
function rateLimitKey(config: Config): string {
  const id = createHash('sha256').update(`${config.chekt.apiUrl}\n${config.chekt.auth.clientId}`).digest('hex').slice(0, 16);
  return `chekt-contact-sync:rate:${id}`;
}
