import { existsSync } from 'node:fs';

/**
 * Jest in ESM mode: ts-jest with useESM, run as `NODE_OPTIONS="--experimental-vm-modules
 * --disable-warning=ExperimentalWarning" jest` (package.json). Jest's ESM support needs Node's VM modules, which
 * Node flags as experimental on every worker start; that is the only ExperimentalWarning a run raises, so the
 * flag hides that category knowingly (other warnings, e.g. deprecations, still print).
 *
 * Three tiers, one jest project each (docs/TESTING.md); `npm test` runs all three, `npm run test:<tier>` one:
 * - `unit`: test/unit, no I/O (no PostgreSQL, Redis, network or dist/), so no globalSetup.
 * - `integration`: test/integration, real PostgreSQL and Redis on localhost and the CHeKT sandbox over HTTP, each
 *   file in its own database (cloned from a template migrated once) and queue prefix.
 * - `faults`: the integration files listed in FAULT_FILES, by this rule: the file breaks infrastructure on purpose
 *   (kills, freezes or restarts a process or a Redis, cuts PostgreSQL's connections, black-holes a connection,
 *   forms a Redis Cluster) and then waits on the real timers recovery takes (BullMQ's lock expiry and stalled
 *   checks, backoff, reconnects), at least 8 s of test time per file as measured (docs/TESTING.md has the numbers).
 *   Fault files that inject the fault in-process and finish in seconds (faults.test.ts, fencing, lost-jobs,
 *   listener-pgbouncer) stay in `integration`.
 */

/** The `faults` tier (see the rule above); file names under test/integration. */
const FAULT_FILES = [
  'faults-crash.test.ts',
  'faults-frozen.test.ts',
  'faults-kill.test.ts',
  'faults-redis.test.ts',
  'faults-scale.test.ts',
  'listener-blackhole.test.ts',
  'redis-cluster.test.ts',
  'redis-eviction-policy.test.ts',
  'retries-429.test.ts',
  'retries-outage.test.ts',
];
// A renamed file would silently move back to `integration`: fail instead.
for (const f of FAULT_FILES) {
  if (!existsSync(new URL(`test/integration/${f}`, import.meta.url))) throw new Error(`jest.config.js FAULT_FILES: test/integration/${f} does not exist`);
}

/** What every tier shares. */
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // See test/support-content-disposition.cjs: an ESM-only dependency of bull-board's static file server.
    '^content-disposition$': '<rootDir>/test/support-content-disposition.cjs',
    // libphonenumber-js's ESM build imports its metadata JSON without an import attribute, which jest 30 warns
    // about once per importing file (about 150 lines per run). Its CommonJS build (the same code and metadata,
    // published for `require`) loads the JSON through require: same behaviour, no warning. Node (dist/, tsx)
    // keeps using the ESM build.
    '^libphonenumber-js/(max|min|mobile|core)$': '<rootDir>/node_modules/libphonenumber-js/$1/index.cjs',
    '^libphonenumber-js$': '<rootDir>/node_modules/libphonenumber-js/index.cjs',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
};

/**
 * The tiers that use PostgreSQL and Redis: their globalSetup builds dist/ when src/ changed (tests that spawn the
 * service run the compiled build) and migrates the template database each file clones. One module for both, so
 * jest runs it once when both tiers run.
 */
const withServices = { ...base, globalSetup: '<rootDir>/test/support/global-setup.js' };

const faultPaths = FAULT_FILES.map((f) => `<rootDir>/test/integration/${f}`);

const tiers = [
  { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
  {
    ...withServices,
    displayName: 'integration',
    testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    testPathIgnorePatterns: ['/node_modules/', ...FAULT_FILES.map((f) => `/test/integration/${f.replace(/\./g, '\\.')}$`)],
  },
  { ...withServices, displayName: 'faults', testMatch: faultPaths },
];

// `TEST_TIER=unit` (npm run test:unit, …) keeps one tier. Not jest's --selectProjects: it takes every word after
// it as a project name, so `npm run test:unit -- <path>` would lose the path.
const only = process.env.TEST_TIER;
if (only !== undefined && !tiers.some((t) => t.displayName === only)) {
  throw new Error(`TEST_TIER=${only}: expected one of ${tiers.map((t) => t.displayName).join(', ')}`);
}

export default {
  projects: only === undefined ? tiers : tiers.filter((t) => t.displayName === only),
  // A global option: jest-circus reads testTimeout from the global config only, never from a project's.
  testTimeout: 60_000,
  // Integration files each create their own database and start processes; two at a time keeps a 2-core machine
  // responsive. Unit files share the same two workers.
  maxWorkers: 2,
};
