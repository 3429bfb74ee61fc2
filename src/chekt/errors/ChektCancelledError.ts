import { ChektError, type ChektErrorInit } from './ChektError.js';

/**
 * The request was not sent because this process is stopping (SIGTERM): no CHeKT request leaves after shutdown
 * began. Retryable: the job is retried at once by another worker.
 */
export class ChektCancelledError extends ChektError {
  constructor(init: ChektErrorInit) {
    super({ ...init, code: init.code ?? 'shutdown' }, true, 'not sent: the process is stopping');
  }
}
