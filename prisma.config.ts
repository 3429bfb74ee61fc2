import { existsSync, readdirSync } from 'node:fs';
import { defineConfig } from 'prisma/config';

// `prisma generate` and `validate` do not use Prisma's native schema engine, but the CLI still looks for it
// and tries to download it, which fails on air-gapped machines (see README, "Migrations without the Prisma
// engine"). When no engine was downloaded, point the CLI at any executable so those two commands work.
// Where the real engine exists (machines with internet), nothing changes and `prisma migrate deploy` works.
const enginesDir = 'node_modules/@prisma/engines';
const hasEngine = existsSync(enginesDir) && readdirSync(enginesDir).some((f) => f.startsWith('schema-engine'));
if (!hasEngine) process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/chekt_contact_sync' },
});
