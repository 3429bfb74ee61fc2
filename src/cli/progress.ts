import cliProgress from 'cli-progress';

/**
 * Progress of `npm run sync` while it waits for its operations, on stderr (stdout keeps only the report).
 * On a terminal: a cli-progress bar redrawn in place. Otherwise (a pipe, a CI log): one plain line at most
 * every `intervalMs`, and a last one on `stop()` when something changed since.
 */

/** One progress sample. */
export interface ProgressState {
  /** Operations finished (succeeded, failed or skipped) out of `total` planned. */
  readonly done: number;
  readonly failed: number;
  readonly total: number;
  /** CHeKT calls per minute made by this process, when it runs the workers; omitted otherwise. */
  readonly callsPerMinute?: number;
}

/** What {@link createProgress} returns. */
export interface Progress {
  update(state: ProgressState): void;
  /** Ends the bar (or prints the last plain line). Idempotent. */
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Where to draw; normally `process.stderr`. A bar is drawn only when `stream.isTTY` is true. */
  readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Operations planned (the bar's end). */
  readonly total: number;
  /** Shortest time between two plain lines, in ms. Default 2000. */
  readonly intervalMs?: number;
  /** Clock in ms; default `Date.now`. */
  readonly now?: () => number;
}

/** Starts showing progress; see the module comment. */
export function createProgress(options: ProgressOptions): Progress {
  return options.stream.isTTY ? barProgress(options) : lineProgress(options);
}

/** The plain line: "progress: 12/40 operations finished, 1 failed, 30 operations/min, 96 CHeKT calls/min". */
export function formatProgressLine(s: ProgressState, opsPerMinute: number | null): string {
  const parts = [`progress: ${s.done}/${s.total} operations finished`, `${s.failed} failed`];
  if (opsPerMinute !== null) parts.push(`${Math.round(opsPerMinute)} operations/min`);
  if (s.callsPerMinute !== undefined) parts.push(`${Math.round(s.callsPerMinute)} CHeKT calls/min`);
  return parts.join(', ');
}

function lineProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 2000;
  const started = now();
  let lastPrint = -Infinity;
  let printed = '';
  let latest: ProgressState | undefined;
  let stopped = false;
  const line = (s: ProgressState) => formatProgressLine(s, opsRate(s.done, now() - started));
  const print = (text: string) => {
    options.stream.write(`${text}\n`);
    printed = text;
    lastPrint = now();
  };
  return {
    update(state) {
      if (stopped) return;
      latest = state;
      if (now() - lastPrint >= interval) print(line(state));
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (!latest) return;
      const text = line(latest);
      // Only the counts matter here: a rate that moved alone is not worth another line.
      if (text.split(',').slice(0, 2).join() !== printed.split(',').slice(0, 2).join()) print(text);
    },
  };
}

function barProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const started = now();
  const bar = new cliProgress.SingleBar(
    {
      stream: options.stream,
      format: 'sync [{bar}] {value}/{total} operations | {failed} failed | {rate} | eta {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(options.total, 0, { failed: 0, rate: '-' });
  let stopped = false;
  return {
    update(s) {
      if (stopped) return;
      const ops = opsRate(s.done, now() - started);
      const rate = [ops === null ? null : `${Math.round(ops)} ops/min`, s.callsPerMinute === undefined ? null : `${Math.round(s.callsPerMinute)} calls/min`].filter(Boolean).join(', ');
      bar.setTotal(s.total);
      bar.update(s.done, { failed: s.failed, rate: rate || '-' });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

/** Operations per minute since the start; null before a second has passed (too noisy). */
function opsRate(done: number, elapsedMs: number): number | null {
  return elapsedMs < 1000 ? null : (done * 60_000) / elapsedMs;
}

/**
 * A per-minute rate over a sliding window of `windowMs` (default 10 s), from a growing counter such as the
 * rate limiter's `acquired`. Call it with the counter's current value; returns the rate in units per minute.
 */
export function createRateMeter(options: { windowMs?: number; now?: () => number } = {}): (count: number) => number {
  const now = options.now ?? Date.now;
  const windowMs = options.windowMs ?? 10_000;
  const samples: Array<{ t: number; count: number }> = [];
  return (count) => {
    const t = now();
    samples.push({ t, count });
    while (samples.length > 2 && samples[1]!.t <= t - windowMs) samples.shift();
    const first = samples[0]!;
    const dt = t - first.t;
    return dt <= 0 ? 0 : ((count - first.count) * 60_000) / dt;
  };
}
