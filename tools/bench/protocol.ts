/**
 * Messages between the bench (./service.ts) and a service process (./worker.ts) over Node's IPC channel.
 * Every request carries an id; the reply echoes it. Id 0 is the child's "ready" message.
 */

/** What the bench asks a service process. */
export type BenchRequest =
  /** Plan one run and wait for its operations: `changes` exactly as a scheduled tick, `reconcile` as a resync. */
  | { readonly id: number; readonly cmd: 'run'; readonly mode: 'changes' | 'reconcile' }
  /** Plan and enqueue only (workers elsewhere, or none: the Redis memory measurement). */
  | { readonly id: number; readonly cmd: 'plan'; readonly mode: 'changes' | 'reconcile' }
  /** Wait until the operations of a run planned by `plan` finished. */
  | { readonly id: number; readonly cmd: 'wait'; readonly planned: RunResult }
  /** Run back to back until `loopStop` (the naive polling loop of the latency baseline). */
  | { readonly id: number; readonly cmd: 'loopStart'; readonly mode: 'changes' | 'reconcile' }
  | { readonly id: number; readonly cmd: 'loopStop' }
  /** Stop the app (ordered shutdown) and report usage; the process then exits. */
  | { readonly id: number; readonly cmd: 'stop' };

/** One planned-and-drained run. Times in ms. */
export interface RunResult {
  /** Null when a `changes` tick found nothing to do (no run row, as in production). */
  readonly runId: string | null;
  /** Creates, updates and deletes planned. */
  readonly planned: number;
  /** From the command to the end of planning and enqueueing. */
  readonly planMs: number;
  /** From the command until no operation of the run is queued (`plan`: equal to planMs). */
  readonly wallMs: number;
  readonly failed: number;
  readonly held: number;
}

/** Resource usage of the whole process: peak RSS (MB) and CPU time (user + system, ms). */
export interface Usage {
  readonly maxRssMb: number;
  readonly cpuMs: number;
  /** Event-loop delay over the process's life, p50 and p99, ms (how long a ready callback waited for the loop). */
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  /**
   * The worst event-loop block, ms (`monitorEventLoopDelay().max`): a block longer than BullMQ's lock (30 s) loses
   * the locks of the jobs running in the process (docs/RETRIES.md "Fencing").
   */
  readonly lagMaxMs: number;
}

/** A service process's answer. */
export interface BenchReply {
  readonly id: number;
  readonly ok: boolean;
  readonly ready?: boolean;
  readonly result?: RunResult | { passes: number };
  readonly usage?: Usage;
  readonly error?: string;
}
