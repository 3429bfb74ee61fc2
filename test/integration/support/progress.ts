/** A slow test's progress log: see {@link progress}. */
export interface Progress {
  /** Records `what` with the seconds since the log began. */
  (what: string): void;
  /** Every line recorded so far, for the test to print when it fails. */
  readonly lines: readonly string[];
}

/**
 * Phase lines of a slow test (`[<label> 4.2 s] worker A connected`), so a run that fails or times out shows where
 * it waited. Kept in memory and printed to stderr as they happen only with `TEST_DEBUG=1` (or `TEST_DEBUG` naming
 * the label, e.g. `TEST_DEBUG=faults-frozen`): a passing `npm test` prints nothing.
 */
export function progress(label: string): Progress {
  const t0 = Date.now();
  const debug = (process.env.TEST_DEBUG ?? '').split(',').some((d) => d === '1' || d === label);
  const lines: string[] = [];
  return Object.assign(
    (what: string) => {
      const line = `[${label} ${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`;
      lines.push(line);
      if (debug) process.stderr.write(`${line}\n`);
    },
    { lines },
  );
}
