/**
 * The CHeKT adapter: a ky client for the five Contacts endpoints (./client.ts), the OAuth2 token provider
 * (./token.ts), a Redis-shared rate limiter (./rateLimiter.ts), zod response schemas (./schemas.ts), defensive
 * error-body parsing (./errorBody.ts) and typed errors (./errors/).
 */
export { createChektClient, type ChektCallInfo, type ChektClient, type ChektClientOptions, type ChektClientStats, type ChektEndpoint } from './client.js';
export { parseErrorBody, type ParsedErrorBody } from './errorBody.js';
export * from './errors/index.js';
export { createRedisRateLimiter, createUnlimitedRateLimiter, rateWindowFor, type RateLimiter, type RateLimiterStats, type RedisRateLimiterOptions } from './rateLimiter.js';
export { chektContactListSchema, chektContactSchema, parseTokenResponse, tokenResponseSchema } from './schemas.js';
export { TokenProvider, type TokenProviderOptions } from './token.js';
export type { ChektContactsApi } from './types.js';
