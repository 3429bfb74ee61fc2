import { createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';

/**
 * A worker-only process for the crash tests (faults-kill.test.ts): the app built from the environment as
 * `npm start` builds it, running the operation workers only (no job scheduler, no HTTP), so a test can SIGKILL
 * it mid-job. Logs `worker ready` once connected; SIGTERM stops it as the service would.
 */
const config = loadConfig(process.env);
const logger = createLogger(config.logLevel);
const app = createApp({ config, logger });
await app.startWorkers({ control: false });
logger.info({ pid: process.pid }, 'worker ready');
process.on('SIGTERM', () => {
  void app.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
