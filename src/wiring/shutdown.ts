import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue, Worker } from 'bullmq';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../queue/connection.js';
import type { PrismaClient } from '../source/db.js';
import type { RunCompletion } from '../sync/runCompletion.js';

/** What {@link closeWorkAndConnections} closes. */
export interface Closeable {
  readonly workers: readonly Worker[];
  readonly queues: readonly Queue[];
  /** The app's non-blocking connection. */
  readonly redis: RedisClient;
  /** The workers' blocking connections. */
  readonly workerConnections: readonly RedisClient[];
  readonly db: PrismaClient;
  /** The CRM connection (source/crm/database.ts). */
  readonly crm: { close(): Promise<void> };
  /** The gathered run completion checks (sync/runCompletion.ts), run once the workers stopped. */
  readonly runCompletion?: Pick<RunCompletion, 'flush'>;
  /** Config `SHUTDOWN_TIMEOUT_MS`. */
  readonly shutdownTimeoutMs: number;
  readonly logger: Logger;
}

/**
 * The end of an ordered shutdown: lets running jobs finish for up to `shutdownTimeoutMs`, then closes the
 * queues, Redis and PostgreSQL. `force` (after a failed start-up check) drops connections without waiting.
 */
export async function closeWorkAndConnections(c: Closeable, force: boolean): Promise<void> {
  const { workers, redis, workerConnections, db } = c;
  const closeQueues = () => Promise.all(c.queues.map((q) => q.close()));
  if (force) {
    await Promise.all(workers.map((w) => w.close(true)));
    for (const conn of [redis, ...workerConnections]) conn.disconnect();
    await Promise.race([closeQueues(), sleep(1000)]);
    await Promise.all([db.$disconnect(), c.crm.close().catch(() => undefined)]);
    return;
  }
  const closing = Promise.all(workers.map((w) => w.close()));
  const timedOut = await Promise.race([closing.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), c.shutdownTimeoutMs).unref())]);
  await Promise.race([c.runCompletion?.flush(), sleep(1000)]);
  if (timedOut) {
    c.logger.warn({ timeoutMs: c.shutdownTimeoutMs }, 'jobs still running at shutdown timeout; they will be retried');
    // BullMQ's close(true) returns the close already in progress (which waits for the jobs), so cut the
    // workers' connections instead: their jobs' locks expire and the stalled-job check hands them to
    // another worker (at least once; a create is retried the safe way).
    for (const conn of workerConnections) conn.disconnect();
    void closing.catch(() => undefined);
    // The cut jobs may still await CHeKT or PostgreSQL; do not wait for them.
    redis.disconnect();
    await Promise.race([closeQueues(), sleep(1000)]);
    await Promise.race([Promise.all([db.$disconnect(), c.crm.close().catch(() => undefined)]), sleep(1000)]);
    return;
  }
  await closeQueues();
  await Promise.all([redis, ...workerConnections].map((conn) => conn.quit().catch(() => undefined)));
  await Promise.all([db.$disconnect(), c.crm.close().catch(() => undefined)]);
}
