import { ConfigError, loadEnvFile, loadStoreConfig } from '../config.js';
import { describeDatabaseError, redact } from '../preflight.js';
import { migrate } from './migrate.js';

/**
 * `npm run db:migrate`: applies pending migrations to `DATABASE_URL` (in `DATABASE_SCHEMA`), creating the database
 * when it does not exist (and saying so). Needs only DATABASE_URL, so it reads just that variable rather than the whole service
 * config. Exit codes: 0 migrated; 2 an invalid or unreachable `DATABASE_URL`; 1 a migration failed.
 */
let databaseUrl: string;
let schema: string;
try {
  loadEnvFile();
  ({ databaseUrl, databaseSchema: schema } = loadStoreConfig(process.env));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}
try {
  const result = await migrate({ databaseUrl, schema });
  if (result.createdDatabase) console.log(`created database ${new URL(databaseUrl).pathname.slice(1)}`);
  for (const name of result.applied) console.log(`applied ${name}`);
  console.log(`migrations: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`);
} catch (err) {
  const code = (err as { code?: string }).code;
  // A pg connection error (refused, unknown host, authentication) is configuration; a failing migration is not.
  if (typeof code === 'string' && /^(E[A-Z]+|28|3D)/.test(code)) {
    console.error(`DATABASE_URL: cannot reach PostgreSQL at ${redact(databaseUrl)}: ${describeDatabaseError(err)}`);
    process.exit(2);
  }
  console.error(`db:migrate failed: ${(err as Error).message}`);
  process.exit(1);
}
