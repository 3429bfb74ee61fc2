// Jest globalSetup of the tiers that use PostgreSQL (jest.config.js: integration, faults; the unit tier has none).
// 1. Builds dist/ when src/ changed (build-dist.js): tests that spawn the service or the CLI run the compiled build.
// 2. Migrates the checkout's template database once (test/integration/support/database.ts, loaded through tsx:
//    jest does not transform a globalSetup's imports) and hands its name to the test workers in the environment;
//    each test file then clones it instead of running the migrations.
import { tsImport } from 'tsx/esm/api';
import buildDist from './build-dist.js';

export default async function globalSetup(globalConfig) {
  buildDist();
  const { prepareTemplateDatabase, TEMPLATE_ENV } = await tsImport('../integration/support/database.ts', import.meta.url);
  process.env[TEMPLATE_ENV] = await prepareTemplateDatabase(globalConfig.rootDir);
}
