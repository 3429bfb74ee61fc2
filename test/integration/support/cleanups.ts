/**
 * Cleanups of the current test, run last-in first-out after each test even when it fails (a failing cleanup does
 * not stop the others). Call once at a test file's top level: it registers the `afterEach` and returns the stack
 * to push onto.
 */
export function useCleanups(): Array<() => Promise<unknown>> {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
  });
  return cleanups;
}
