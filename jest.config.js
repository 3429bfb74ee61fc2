/**
 * Jest in ESM mode (see ../shared/notes/platform.md): ts-jest with useESM, run as
 * `NODE_OPTIONS=--experimental-vm-modules jest`. Unit tests need no I/O; integration tests use the
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
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  // Builds dist/ when src/ changed since the last build: tests that spawn the service run the compiled build.
  globalSetup: '<rootDir>/test/support/build-dist.js',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 60_000,
  // Integration files each create their own database; two at a time keeps a 2-core machine responsive.
  maxWorkers: 2,
};
