/** A test's cleanups (see {@link useCleanups}). */
export interface Cleanups extends Array<() => Promise<unknown>> {
  /** Pushes `resource.close()` and returns `resource`: `const h = cleanups.track(await createHarness(…))`. */
  track<T extends { close(): Promise<unknown> }>(resource: T): T;
}

/**
 * Cleanups of the current test, run last-in first-out after each test even when it fails (a failing cleanup does
 * not stop the others). Call once at a test file's top level: it registers the `afterEach` and returns the stack
 * to push onto.
 */
export function useCleanups(): Cleanups {
  const cleanups: Cleanups = Object.assign([] as Array<() => Promise<unknown>>, {
    track<T extends { close(): Promise<unknown> }>(resource: T): T {
      cleanups.push(() => resource.close());
      return resource;
    },
  });
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
  });
  return cleanups;
}
