/**
 * The command line of our CLIs (status, sync, source:check, crm:triggers), read the same way by each: node:util
 * `parseArgs` plus the CLI's own checks. A bad command line prints its reason and the usage on stderr (exit 2),
 * `--help` the usage on stdout (exit 0).
 */

/**
 * Runs `parse` (parseArgs and the CLI's checks, throwing an Error whose message names the flag), then answers
 * `--help`. Returns the parsed command line, or the exit code the CLI returns at once: 2 when `parse` threw
 * (after {@link usageError}), 0 after printing `usage` for `--help`.
 */
export function readCommandLine<T extends { readonly help: boolean }>(usage: string, parse: () => T): T | number {
  let args: T;
  try {
    args = parse();
  } catch (err) {
    return usageError(err, usage);
  }
  if (args.help) {
    console.log(usage);
    return 0;
  }
  return args;
}

/** Prints a bad command line's reason and `usage` on stderr; returns exit code 2. */
export function usageError(err: unknown, usage: string): 2 {
  console.error(`${(err as Error).message}\n\n${usage}`);
  return 2;
}
