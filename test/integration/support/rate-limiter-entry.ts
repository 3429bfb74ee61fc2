import { setTimeout as sleep } from 'node:timers/promises';
import { createRedisRateLimiter } from '../../../src/chekt/rateLimiter.js';
import { parseClusterNodes } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { createRedis, type RedisTarget } from '../../../src/queue/connection.js';

/**
 * One process of the shared rate-limit test (redis-cluster.test.ts): connects as the app does (REDIS_CLUSTER_NODES,
 * else REDIS_URL), waits until START_AT (epoch ms) so both processes begin together, acquires COUNT grants of
 * the limiter at RATE_KEY / PER_MINUTE (all at once, as concurrent jobs would), and prints the grant times as
 * one JSON line.
 */
const env = process.env;
const cluster = env.REDIS_CLUSTER_NODES ? parseClusterNodes(env.REDIS_CLUSTER_NODES) : undefined;
if (typeof cluster === 'string') throw new Error(`REDIS_CLUSTER_NODES: ${cluster}`);
const target: RedisTarget = cluster ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = createRedis(target, { blocking: false, logger: createLogger('warn', process.stderr) });
const limiter = createRedisRateLimiter({ redis, key: env.RATE_KEY!, perMinute: Number(env.PER_MINUTE) });
await redis.ping();
await sleep(Math.max(0, Number(env.START_AT) - Date.now()));
const times: number[] = [];
await Promise.all(Array.from({ length: Number(env.COUNT) }, () => limiter.acquire().then(() => void times.push(Date.now()))));
process.stdout.write(`${JSON.stringify({ times, stats: limiter.stats!() })}\n`);
redis.disconnect();
