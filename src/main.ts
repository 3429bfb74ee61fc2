import { createApp } from './app.js';
import { ConfigError, loadConfig, loadEnvFile } from './config.js';
import { migrate } from './db/migrate.js';
import { credentialsFromConfig } from './http/auth.js';
import { buildHttpServer } from './http/server.js';
import { createLogger } from './logger.js';
import { checkEvictionPolicy } from './recovery/evictionPolicy.js';
import { checkConnections, checkCredentials, describeDatabaseError, PreflightError, redact } from './preflight.js';
import { configSecrets } from './scrub.js';

/**
 * `npm start`: the long-lived service. Applies pending migrations, then runs the job scheduler, the workers
 * and the HTTP server (dashboard, API, health). SIGTERM/SIGINT: stop taking work, let running jobs finish
 * within `SHUTDOWN_TIMEOUT_MS`, close connections, exit 0.
 */
let config;
try {
  loadEnvFile();
  config = loadConfig(process.env, { requireAdmin: true });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}
const logger = createLogger(config.logLevel, undefined, { secrets: configSecrets(config) });
try {
  await migrate({ databaseUrl: config.databaseUrl, createDatabase: false, schema: config.databaseSchema });
} catch (err) {
  console.error(`DATABASE_URL: cannot migrate ${redact(config.databaseUrl)}: ${describeDatabaseError(err)}`);
  process.exit(2);
}
const app = createApp({ config, logger });
try {
  await checkConnections(app);
  // Redis must not evict the queues unless REDIS_ALLOW_EVICTION=true (docs/OPERATIONS-FAULTS.md).
  await checkEvictionPolicy(app.redis, config.redisAllowEviction, logger);
  await checkCredentials(app.tokens, config.chekt.tokenUrl, config.chekt.auth.mode, config.chekt.apiUrl).catch((err: unknown) => {
    if (err instanceof PreflightError && !err.transient) throw err;
    // CHeKT unreachable right now: start anyway; every tick and job retries.
    logger.warn({ err: { message: (err as Error).message } }, 'cannot reach the CHeKT token endpoint at start-up; will retry');
  });
} catch (err) {
  console.error((err as Error).message);
  await app.stop({ force: true });
  process.exit(err instanceof PreflightError ? 2 : 1);
}
const http = await buildHttpServer(app, credentialsFromConfig(config.http));
// Listen before taking work: a port in use or a bad host stops start-up with nothing started.
try {
  await http.listen({ port: config.http.port, host: config.http.host });
} catch (err) {
  console.error(`HTTP_HOST / HTTP_PORT: cannot listen on ${config.http.host}:${config.http.port}: ${(err as Error).message}`);
  await app.stop({ force: true });
  process.exit(2);
}
await app.startWorkers();
await app.startScheduler();
app.startAlerts();
logger.info({ port: config.http.port, rateLimitPerMinute: config.chekt.rateLimitPerMinute, chektApiUrl: config.chekt.apiUrl }, 'chekt-contact-sync started');

let shuttingDown = false;
const shutdown = async (signal: string) => {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'shutting down: no new work; waiting for running jobs');
  try {
    await http.close();
    await app.stop();
    logger.info('stopped');
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    process.exit(1);
  }
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
