import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { expect } from '@jest/globals';

/**
 * Names of what a test file creates on the shared PostgreSQL and Redis, which other checkouts' test runs use at
 * the same time: every database and queue prefix carries the test file's name and a random part, so two files
 * (or two runs of one file) never meet, and a leftover names the file that left it.
 */

/** A unique id for database names and queue prefixes: `<label>_<8 hex digits>`. */
export function uniqueId(label: string): string {
  return `${label}_${randomBytes(4).toString('hex')}`;
}

/** The running test file's name without `.test.ts` (`faults-crash`), or `shared` outside a jest test file. */
export function testFileName(): string {
  const path = expect.getState().testPath;
  return path ? basename(path).replace(/\.test\.ts$/, '') : 'shared';
}

/**
 * A BullMQ queue prefix (`QUEUE_PREFIX`) of the running test file's own, `t-<file>-<label>_<hex>`; also the prefix
 * of any other key a test writes on the shared Redis. Every queue key the app writes sits under it, so
 * `deleteRedisPrefix` removes exactly what the test wrote.
 */
export function queuePrefix(label: string): string {
  return uniqueId(`t-${testFileName()}-${label}`);
}

/**
 * A PostgreSQL database name of the running test file's own: `cks_<file>_<label>_<hex>`, lowercase, `-` as `_`,
 * within PostgreSQL's 63-byte identifier limit.
 */
export function databaseName(label: string): string {
  return uniqueId(`cks_${testFileName()}_${label}`.slice(0, 54)).toLowerCase().replace(/-/g, '_');
}
