import { ConfigError } from '../config.js';
import { z } from 'zod';
import { migrate } from './migrate.js';

/**
 * `npm run db:migrate`: applies pending migrations to `DATABASE_URL`, creating the database when it does not
 * exist (and saying so).
 * Needs only DATABASE_URL, so it reads just that variable rather than the whole service config.
 */
const parsed = z
  .string()
  .regex(/^postgres(ql)?:\/\//)
  .default('postgresql://postgres@127.0.0.1:5432/chekt_contact_sync')
  .safeParse(process.env.DATABASE_URL || undefined);
if (!parsed.success) {
  console.error(new ConfigError(['DATABASE_URL: must be a postgresql:// URL']).message);
  process.exit(2);
}
try {
  const result = await migrate({ databaseUrl: parsed.data });
  if (result.createdDatabase) console.log(`created database ${new URL(parsed.data).pathname.slice(1)}`);
  for (const name of result.applied) console.log(`applied ${name}`);
  console.log(`migrations: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`);
} catch (err) {
  console.error(`db:migrate failed: ${(err as Error).message}`);
  process.exit(1);
}
