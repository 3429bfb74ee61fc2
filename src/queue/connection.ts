import { Redis } from 'ioredis';

/**
 * ioredis connections for BullMQ. Workers and blocking connections need `maxRetriesPerRequest: null`
 * (BullMQ 6 requirement, platform.md). Producers fail fast instead, so an HTTP request never hangs on a
 * Redis outage.
 */
export function createRedis(url: string, options: { blocking: boolean }): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: options.blocking ? null : 3,
    enableReadyCheck: true,
    connectTimeout: 10_000,
    lazyConnect: false,
  });
}
