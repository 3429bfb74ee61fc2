import type { Logger } from '../logger.js';

/**
 * Completing runs whose last operations settled at the same time. A job that settles its operation completes the
 * run in the same statement when no other operation of the run is queued; when others are (as its statement saw
 * them), the run must be checked again after that commit, because the jobs settling the run's last operations at
 * once cannot see each other's updates (source/runs.ts `finishOperation`). The check made after the last of them
 * committed sees every operation settled and completes the run.
 *
 * Checking after every operation costs one more statement per operation while a run drains. This gathers the
 * checks instead: every run asked for is checked at most `delayMs` later, in one statement for all of them, and
 * always by a check that starts after the request (so after the caller's commit). A run therefore shows
 * `completed` at most `delayMs` (plus one statement) after its last operation settled.
 */

/** Gathered run completion checks of one process; see the module comment. */
export interface RunCompletion {
  /**
   * Checks these runs within `delayMs`, by a check that starts after this call (call it after the commit that
   * settled the operation). Never throws; a failed check is logged and tried again after `retryMs`.
   */
  checkLater(runIds: readonly string[]): void;
  /** Runs the pending checks now and waits for them (shutdown). A failure is logged, not thrown. */
  flush(): Promise<void>;
}

/** Options of {@link createRunCompletion}. */
export interface RunCompletionOptions {
  /** Completes the runs among `runIds` that have no queued operation left (source/runs.ts `completeRunsIfDone`). */
  readonly complete: (runIds: readonly string[]) => Promise<void>;
  readonly logger: Logger;
  /** Longest wait between a request and its check, in ms. Default 200. */
  readonly delayMs?: number;
  /** Wait before trying a failed check again, in ms. Default 2000. */
  readonly retryMs?: number;
}

/** Creates the {@link RunCompletion} of one process. */
export function createRunCompletion(options: RunCompletionOptions): RunCompletion {
  const delayMs = options.delayMs ?? 200;
  const retryMs = options.retryMs ?? 2000;
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const schedule = (ms: number) => {
    if (timer || running || pending.size === 0) return;
    timer = setTimeout(run, ms);
    // A pending check never keeps a process alive by itself; a stopping app flushes it.
    timer.unref();
  };

  function run(): Promise<void> {
    timer = undefined;
    const ids = [...pending];
    pending.clear();
    let nextMs = delayMs;
    running = options
      .complete(ids)
      .catch((err: unknown) => {
        for (const id of ids) pending.add(id);
        nextMs = retryMs;
        options.logger.warn({ err, runIds: ids.slice(0, 10), runs: ids.length }, 'cannot check whether runs are complete; trying again');
      })
      .finally(() => {
        running = undefined;
        schedule(nextMs);
      });
    return running;
  }

  return {
    checkLater(runIds) {
      if (runIds.length === 0) return;
      for (const id of runIds) pending.add(id);
      schedule(delayMs);
    },
    async flush() {
      const cancel = () => {
        clearTimeout(timer);
        timer = undefined;
      };
      cancel();
      await running;
      cancel();
      if (pending.size > 0) await run();
      // A failed check scheduled itself again: at shutdown once is enough (`waitForRun`, or the next job of the
      // run in any process, completes it later).
      cancel();
    },
  };
}
