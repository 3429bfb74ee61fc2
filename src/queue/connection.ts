import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * ioredis connections for BullMQ. Workers and blocking connections need `maxRetriesPerRequest: null`
 * (BullMQ 6 requirement, platform.md). Producers fail fast instead, so an HTTP request never hangs on a
 * Redis outage. Connection errors are logged at most once per 30 s per connection (ioredis reconnects by
 * itself; without a listener it would print every failed attempt to stderr).
 */
export function createRedis(url: string, options: { blocking: boolean; logger: Logger }): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: options.blocking ? null : 3,
    enableReadyCheck: true,
    connectTimeout: 10_000,
    lazyConnect: false,
  });
  let lastLogged = 0;
  redis.on('error', (err: Error) => {
    if (Date.now() - lastLogged < 30_000) return;
    lastLogged = Date.now();
    options.logger.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'Redis connection error; retrying');
  });
  return redis;
}

/**
 * Deletes every Redis key under `${prefix}:` (SCAN in pages of 1,000, then DEL), opening and closing its own
 * connection to `redisUrl`. For the bench and tests, which start from an empty prefix; never called by the
 * service.
 */
export async function deleteKeysWithPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
