import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Per-operation context for CHeKT calls, so the one shared client can report each call's
 * `x-partner-trace-id` and status to the operation that made it (logged with the outcome).
 */
export interface CallRecord {
  readonly endpoint: string;
  readonly status: number | undefined;
  readonly traceId: string;
  readonly durationMs: number;
}

const storage = new AsyncLocalStorage<CallRecord[]>();

/** Runs `fn` collecting the CHeKT calls it makes. */
export function withCallLog<T>(fn: () => Promise<T>): { calls: CallRecord[]; result: Promise<T> } {
  const calls: CallRecord[] = [];
  return { calls, result: storage.run(calls, fn) };
}

/** Called by the CHeKT client after each HTTP call; a no-op outside {@link withCallLog}. */
export function recordCall(call: CallRecord): void {
  storage.getStore()?.push(call);
}
