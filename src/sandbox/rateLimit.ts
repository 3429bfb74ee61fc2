/**
 * Token-bucket rate limiting as CHeKT documents it (docs/CHEKT-API.md#rate-limits): one bucket per client, a per-minute
 * ceiling refilled continuously, a burst allowance (Free tier: 60/min, burst 5/s), and on every response
 * `X-RateLimit-Limit` (per-minute), `X-RateLimit-Remaining`, `X-RateLimit-Reset` (Unix seconds); a refused
 * request gets 429 with `Retry-After` in whole seconds. Pure: the clock is injected.
 */

/** The outcome of taking one token, with everything the response headers need. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** The per-minute ceiling (`X-RateLimit-Limit`). */
  readonly limit: number;
  /** Whole tokens left after this request (`X-RateLimit-Remaining`). */
  readonly remaining: number;
  /** When the bucket is full again, Unix seconds rounded up (`X-RateLimit-Reset`). */
  readonly resetAtSeconds: number;
  /** Seconds until one token is available, rounded up, at least 1; 0 when allowed (`Retry-After`). */
  readonly retryAfterSeconds: number;
}

/** Default burst: five seconds' worth of the per-minute rate, at least 1 (CHeKT Free tier: 60/min → 5). */
export function defaultBurst(perMinute: number): number {
  return Math.max(1, Math.round((perMinute / 60) * 5));
}

/** Absorbs float error in refills such as 3 × (1/3 token). */
const EPSILON = 1e-9;

/** Options for {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Refill rate, tokens per minute (> 0). */
  readonly perMinute: number;
  /** Capacity, tokens (>= 1). The bucket starts full. */
  readonly burst: number;
  /** Clock, epoch milliseconds. */
  readonly now: () => number;
}

/** One client's bucket. */
export class TokenBucket {
  private readonly perMs: number;
  private tokens: number;
  private refilledAt: number;

  constructor(private readonly options: TokenBucketOptions) {
    if (!(options.perMinute > 0)) throw new RangeError(`perMinute must be > 0, got ${options.perMinute}`);
    if (!(options.burst >= 1)) throw new RangeError(`burst must be >= 1, got ${options.burst}`);
    this.perMs = options.perMinute / 60_000;
    this.tokens = options.burst;
    this.refilledAt = options.now();
  }

  /** Takes one token if available. A refused request takes nothing. */
  take(): RateLimitDecision {
    const now = this.options.now();
    this.tokens = Math.min(this.options.burst, this.tokens + Math.max(0, now - this.refilledAt) * this.perMs);
    this.refilledAt = now;
    const allowed = this.tokens + EPSILON >= 1;
    if (allowed) this.tokens = Math.max(0, this.tokens - 1);
    const msToFull = (this.options.burst - this.tokens) / this.perMs;
    const msToOne = (1 - this.tokens) / this.perMs;
    return {
      allowed,
      limit: this.options.perMinute,
      remaining: Math.floor(this.tokens + EPSILON),
      resetAtSeconds: Math.ceil((now + msToFull) / 1000),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(msToOne / 1000 - EPSILON)),
    };
  }
}

/** Options for {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Requests per minute per client; 0 = unlimited. */
  readonly perMinute: number;
  /** Bucket size; default {@link defaultBurst}(perMinute). */
  readonly burst?: number | undefined;
  /** Clock, epoch milliseconds. */
  readonly now: () => number;
}

/** Buckets keyed by client id. Unlimited (perMinute 0) answers undefined: no headers, no 429. */
export class RateLimiter {
  private perMinute = 0;
  private burst = 1;
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly options: RateLimiterOptions) {
    this.configure(options.perMinute, options.burst);
  }

  /** Current settings; `burst` is meaningless when `perMinute` is 0. */
  get settings(): { perMinute: number; burst: number } {
    return { perMinute: this.perMinute, burst: this.burst };
  }

  /**
   * Changes the limit and refills every bucket.
   * @throws {RangeError} when perMinute < 0 or burst < 1.
   */
  configure(perMinute: number, burst?: number): void {
    if (!Number.isFinite(perMinute) || perMinute < 0) throw new RangeError(`perMinute must be >= 0, got ${perMinute}`);
    const size = burst ?? defaultBurst(perMinute);
    if (!Number.isFinite(size) || size < 1) throw new RangeError(`burst must be >= 1, got ${size}`);
    this.perMinute = perMinute;
    this.burst = size;
    this.buckets.clear();
  }

  /** Counts one request for `clientId`; undefined when unlimited. */
  take(clientId: string): RateLimitDecision | undefined {
    if (this.perMinute === 0) return undefined;
    let bucket = this.buckets.get(clientId);
    if (!bucket) {
      bucket = new TokenBucket({ perMinute: this.perMinute, burst: this.burst, now: this.options.now });
      this.buckets.set(clientId, bucket);
    }
    return bucket.take();
  }

  /** Refills every bucket (settings kept). */
  reset(): void {
    this.buckets.clear();
  }
}
