/**
 * Jest in ESM mode: ts-jest with useESM, run as `NODE_OPTIONS="--experimental-vm-modules
 * --disable-warning=ExperimentalWarning" jest` (package.json). Jest's ESM support needs Node's VM modules, which
 * Node flags as experimental on every worker start; that is the only ExperimentalWarning a run raises, so the
 * flag hides that category knowingly (other warnings, e.g. deprecations, still print). Unit tests need no I/O; integration tests use the
 * real PostgreSQL and Redis on localhost and the CHeKT sandbox over HTTP, each file in its own
 * database and queue prefix.
 */
export default {
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
  // Builds dist/ when src/ changed since the last build: tests that spawn the service run the compiled build.
  globalSetup: '<rootDir>/test/support/build-dist.js',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 60_000,
  // Integration files each create their own database; two at a time keeps a 2-core machine responsive.
  maxWorkers: 2,
};
