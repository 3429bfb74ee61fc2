import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Per-operation context for CHeKT calls, so the one shared client can report each call's
 * `x-partner-trace-id` and status to the operation that made it (logged with the outcome), and can ask the
 * operation, right before each write, whether it still owns its job (fencing, docs/RETRIES.md).
 */
export interface CallRecord {
  readonly endpoint: string;
  readonly status: number | undefined;
  readonly traceId: string;
  readonly durationMs: number;
}

interface CallScope {
  readonly calls: CallRecord[];
  readonly beforeWrite: (() => Promise<void>) | undefined;
}

const storage = new AsyncLocalStorage<CallScope>();

/**
 * Runs `fn` collecting the CHeKT calls it makes. `beforeWrite`, when given, is awaited right before every CHeKT
 * write `fn` makes (POST, PUT, DELETE) and throws to stop the write (sync/operationProcessor.ts: the job lock check).
 */
export function withCallLog<T>(fn: () => Promise<T>, beforeWrite?: () => Promise<void>): { calls: CallRecord[]; result: Promise<T> } {
  const calls: CallRecord[] = [];
  return { calls, result: storage.run({ calls, beforeWrite }, fn) };
}

/** Called by the CHeKT client after each HTTP call; a no-op outside {@link withCallLog}. */
export function recordCall(call: CallRecord): void {
  storage.getStore()?.calls.push(call);
}

/**
 * Called by the CHeKT client right before each HTTP request; for writes, runs the current operation's
 * `beforeWrite` (a no-op outside {@link withCallLog}, e.g. a reconcile's list calls).
 * @throws whatever `beforeWrite` throws (queue/fence.ts `JobLockLostError`).
 */
export async function guardWrite(method: string): Promise<void> {
  if (method === 'GET') return;
  await storage.getStore()?.beforeWrite?.();
}
