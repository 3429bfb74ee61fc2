import { Cluster, Redis } from 'ioredis';
import type { RedisClusterTarget } from '../config.js';
import type { Logger } from '../logger.js';

/**
 * ioredis connections for BullMQ and the shared rate limit: one Redis server (`REDIS_URL`) or a Redis Cluster
 * (`REDIS_CLUSTER_NODES`, docs/DEPLOYMENT.md#redis-one-server-a-cluster-a-managed-service).
 */

/** A connection to one Redis server or to a Redis Cluster; BullMQ and rate-limiter-flexible take either. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: `REDIS_URL`, or the cluster when `REDIS_CLUSTER_NODES` is set (config.ts). */
export type RedisTarget = string | RedisClusterTarget;

/** The configured target, from the config's two variables. */
export function redisTargetOf(config: { readonly redisUrl: string; readonly redisCluster: RedisClusterTarget | undefined }): RedisTarget {
  return config.redisCluster ?? config.redisUrl;
}

/** The variable that configures `target` and where it points, without any password (for error messages). */
export function describeRedisTarget(target: RedisTarget): { readonly variable: 'REDIS_URL' | 'REDIS_CLUSTER_NODES'; readonly where: string } {
  if (typeof target !== 'string') return { variable: 'REDIS_CLUSTER_NODES', where: `the cluster at ${target.nodes.map((n) => `${n.host}:${n.port}`).join(',')}` };
  try {
    const u = new URL(target);
    if (u.password) u.password = '***';
    return { variable: 'REDIS_URL', where: u.toString() };
  } catch {
    return { variable: 'REDIS_URL', where: '(unparseable URL)' };
  }
}

/**
 * BullMQ's key prefix for `queuePrefix`. On a cluster every key of a queue must hash to one slot, because
 * BullMQ's Lua scripts touch several keys at once; BullMQ's documented way is a prefix in braces, a hash tag
 * (docs.bullmq.io "Redis Cluster"). Our two queues share it: the control queue is tiny, so spreading the queues
 * over slots would gain nothing. On one server the prefix stays as configured (existing keys keep their names).
 */
export function bullmqPrefix(queuePrefix: string, target: RedisTarget): string {
  return typeof target === 'string' ? queuePrefix : `{${queuePrefix}}`;
}

/** The last connection error a client reported (ioredis otherwise answers "max retries per request" only). */
const lastErrors = new WeakMap<RedisClient, Error>();

/** The last error event of a connection made by {@link createRedis}, if any. */
export function lastConnectionError(redis: RedisClient): Error | undefined {
  return lastErrors.get(redis);
}

/**
 * A connection to `target`. Workers and blocking connections need `maxRetriesPerRequest: null` (BullMQ 6
 * requirement, docs/PLATFORM.md#bullmq). Producers fail fast instead, so an HTTP request never hangs on a Redis outage.
 * Connection errors are logged at most once per 30 s per connection (ioredis reconnects by itself; without a
 * listener it would print every failed attempt to stderr) and kept for {@link lastConnectionError}.
 */
export function createRedis(target: RedisTarget, options: { blocking: boolean; logger: Logger }): RedisClient {
  const perNode = { maxRetriesPerRequest: options.blocking ? null : 3, connectTimeout: 10_000 };
  const redis: RedisClient =
    typeof target === 'string'
      ? new Redis(target, { ...perNode, enableReadyCheck: true, lazyConnect: false })
      : new Cluster(
          target.nodes.map((n) => ({ host: n.host, port: n.port })),
          {
            enableReadyCheck: true,
            redisOptions: {
              ...perNode,
              ...(target.username ? { username: target.username } : {}),
              ...(target.password ? { password: target.password } : {}),
              ...(target.tls ? { tls: {} } : {}),
            },
            // Managed clusters (ElastiCache, MemoryDB) with TLS need the node's DNS name for certificates.
            ...(target.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
          },
        );
  let lastLogged = 0;
  redis.on('error', (err: Error) => {
    lastErrors.set(redis, err);
    if (Date.now() - lastLogged < 30_000) return;
    lastLogged = Date.now();
    options.logger.warn({ err: { message: describeRedisError(err, redis), code: (err as { code?: string }).code } }, 'Redis connection error; retrying');
  });
  return redis;
}

/**
 * A Redis error in words a partner understands: "connection refused" rather than ioredis' "Reached the max
 * retries per request limit (which is 3). Refer to "maxRetriesPerRequest" option for details.", which says only
 * that the connection kept failing. Pass the connection to use the last error it reported.
 */
export function describeRedisError(err: unknown, redis?: RedisClient): string {
  const e = err as { name?: string; message?: string; code?: string; lastNodeError?: Error } | null;
  const message = e?.message ?? String(err);
  if (/maxRetriesPerRequest|max retries per request|Connection is closed|Failed to refresh slots cache|None of startup nodes is available|no answer within/i.test(message)) {
    const last = (redis && lastConnectionError(redis)) ?? e?.lastNodeError;
    if (last && last !== err) return describeRedisError(last);
    if (/slots cache|startup nodes/i.test(message)) return 'no cluster node answered (nothing listens there, an unknown host, or not a cluster)';
    return /no answer within/.test(message) ? message : 'no connection (nothing answered; is Redis running there?)';
  }
  switch (e?.code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens on that host and port)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host (DNS cannot resolve it)';
    case 'ETIMEDOUT':
      return 'connection timed out (a firewall, or the wrong host)';
    case 'ECONNRESET':
      return 'connection reset by the server (TLS expected? use rediss://)';
  }
  if (/^WRONGPASS|^NOAUTH|invalid password|invalid username-password/i.test(message)) return 'authentication failed: check the user and password in the URL';
  if (/DB index is out of range/i.test(message)) return 'the database number in the URL does not exist on this server';
  if (/cluster support disabled/i.test(message)) return 'this server is not a cluster node: use REDIS_URL for a single Redis server';
  return message.split('\n')[0]!.slice(0, 300);
}

/**
 * Why a cluster's first seed node does not serve as a cluster, in words: ioredis' Cluster reports only "Failed to
 * refresh slots cache", so this opens one plain connection (no retries, 2 s) and asks `CLUSTER INFO`.
 * Undefined when the node answers and its cluster is ok.
 */
export async function probeClusterSeed(target: RedisClusterTarget): Promise<string | undefined> {
  const seed = target.nodes[0]!;
  const r = new Redis({
    host: seed.host,
    port: seed.port,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2000,
  });
  let lastError: Error | undefined;
  r.on('error', (err: Error) => void (lastError = err));
  try {
    await r.connect();
    const info = String(await r.call('CLUSTER', 'INFO'));
    return info.includes('cluster_state:ok') ? undefined : `${seed.host}:${seed.port} reports cluster_state:fail (not every slot is served)`;
  } catch (err) {
    return `${seed.host}:${seed.port}: ${describeRedisError(lastError ?? err)}`;
  } finally {
    r.disconnect();
  }
}

/**
 * Deletes every Redis key under `${prefix}:` (SCAN in pages of 1,000, then DEL, on every master of a cluster),
 * opening and closing its own connection to `target`. For the bench and tests, which start from an empty
 * prefix; never called by the service.
 */
export async function deleteKeysWithPrefix(target: RedisTarget, prefix: string): Promise<void> {
  const client = typeof target === 'string' ? new Redis(target) : new Cluster(target.nodes.map((n) => ({ ...n })));
  try {
    if (client instanceof Cluster) await client.ping(); // connects and learns the slots
    const nodes = client instanceof Cluster ? client.nodes('master') : [client];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        // One DEL per key (pipelined): on a cluster node, keys of one page may belong to different slots.
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.del(key);
        if (keys.length > 0) await pipeline.exec();
      } while (cursor !== '0');
    }
  } finally {
    client.disconnect();
  }
}
