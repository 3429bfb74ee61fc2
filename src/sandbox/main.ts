import { existsSync } from 'node:fs';
import { createLogger } from '../logger.js';
import { loadSandboxConfig } from './config.js';
import { startSandbox } from './server.js';

/**
 * `npm run sandbox`: the CHeKT sandbox as a standalone server for development, the demo and partners' staging.
 * Settings come from SANDBOX_* variables (see ./config.ts). Stops cleanly on SIGTERM/SIGINT.
 * Logs the URL and client id; never the secret or tokens.
 */
async function main(): Promise<void> {
  let config;
  try {
    // SANDBOX_* settings may live in `.env` (or ENV_FILE) like the service's (Node's own parser; the real
    // environment wins). Kept to these two lines so the sandbox imports nothing of the service.
    const envFile = process.env.ENV_FILE?.trim() || '.env';
    if (existsSync(envFile)) process.loadEnvFile(envFile);
    config = loadSandboxConfig(process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger(config.logLevel).child({ component: 'chekt-sandbox' });
  let sandbox;
  try {
    sandbox = await startSandbox({ ...config.options, logger });
  } catch (err) {
    const where = `${config.options.host ?? '127.0.0.1'}:${config.options.port ?? 0}`;
    process.stderr.write(`SANDBOX_HOST / SANDBOX_PORT: cannot listen on ${where}: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const client = config.options.clients?.[0];
  logger.info(
    {
      url: sandbox.url,
      clientId: client?.clientId,
      assertionVerified: client?.publicKeyPem !== undefined,
      autoCreateSites: config.options.autoCreateSites,
      rateLimitPerMinute: config.options.rateLimitPerMinute,
    },
    'CHeKT sandbox listening',
  );

  let closing = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'CHeKT sandbox closing');
    sandbox.close().then(
      () => logger.info('CHeKT sandbox closed'),
      (err: unknown) => {
        logger.error({ err }, 'CHeKT sandbox close failed');
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`CHeKT sandbox failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
