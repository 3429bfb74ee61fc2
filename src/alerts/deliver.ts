import { createHmac } from 'node:crypto';
import type { PrismaClient } from '../source/db.js';

/**
 * Delivers the alert outbox (`sync_alerts`) to `ALERT_WEBHOOK_URL` (docs/CONSOLE.md "Alerts"). Any process may
 * deliver: a row is claimed for a lease with `FOR UPDATE SKIP LOCKED`, so two processes never POST one alert at
 * the same time. A failed POST (network error, timeout, non-2xx) is retried with exponential backoff; after
 * `maxAttempts` the alert is marked dead (`dead_at`), logged and counted. A process that dies mid-POST leaves its
 * lease to expire and another process retries: at least once in that case, so receivers dedupe by
 * `X-Chekt-Sync-Delivery` (the alert id).
 */

/** Header carrying `sha256=<hex HMAC-SHA256 of the raw body, keyed with ALERT_WEBHOOK_SECRET>`. */
export const SIGNATURE_HEADER = 'x-chekt-sync-signature';

/** Longest retry delay, in ms. */
const MAX_BACKOFF_MS = 600_000;

/** What {@link deliverDue} needs. */
export interface DeliverOptions {
  readonly db: PrismaClient;
  readonly url: string;
  readonly secret?: string | undefined;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  /** First retry delay in ms; doubled per attempt, up to 10 minutes. */
  readonly retryBackoffMs: number;
  /** Called once per attempt with its outcome. */
  readonly onAttempt?: (a: { id: string; event: string; outcome: 'delivered' | 'retrying' | 'dead'; error?: string }) => void;
}

/** `sha256=<hex>` of `body` keyed with `secret` (what receivers recompute; docs/CONSOLE.md). */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Delay before attempt `attempt + 1`, in ms: `base * 2^(attempt-1)`, capped at 10 minutes. */
export function retryDelayMs(attempt: number, baseMs: number): number {
  return Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** Claims and POSTs due alerts one at a time until none is due or `limit` were tried. Returns how many were tried. */
export async function deliverDue(o: DeliverOptions, limit = 20): Promise<number> {
  const leaseMs = o.timeoutMs + 10_000;
  let tried = 0;
  for (; tried < limit; tried++) {
    const [row] = await o.db.$queryRaw<Array<{ id: string; event: string; body: unknown; attempts: number }>>`
      UPDATE sync_alerts SET claimed_until = clock_timestamp() + make_interval(secs => ${leaseMs / 1000}), attempts = attempts + 1
       WHERE id = (SELECT id FROM sync_alerts
                    WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= clock_timestamp()
                      AND (claimed_until IS NULL OR claimed_until < clock_timestamp())
                    ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING id::text, event, body, attempts`;
    if (!row) break;
    const error = await post(o, row.id, row.event, JSON.stringify(row.body));
    if (error === null) {
      await o.db.$executeRaw`UPDATE sync_alerts SET delivered_at = clock_timestamp(), claimed_until = NULL, last_error = NULL WHERE id = ${row.id}::uuid`;
      o.onAttempt?.({ id: row.id, event: row.event, outcome: 'delivered' });
    } else if (row.attempts >= o.maxAttempts) {
      await o.db.$executeRaw`UPDATE sync_alerts SET dead_at = clock_timestamp(), claimed_until = NULL, last_error = ${error} WHERE id = ${row.id}::uuid`;
      o.onAttempt?.({ id: row.id, event: row.event, outcome: 'dead', error });
    } else {
      const delay = retryDelayMs(row.attempts, o.retryBackoffMs);
      await o.db
        .$executeRaw`UPDATE sync_alerts SET next_attempt_at = clock_timestamp() + make_interval(secs => ${delay / 1000}), claimed_until = NULL, last_error = ${error} WHERE id = ${row.id}::uuid`;
      o.onAttempt?.({ id: row.id, event: row.event, outcome: 'retrying', error });
    }
  }
  return tried;
}

/** One POST; null on a 2xx answer, else why not (cut to 300 characters). */
async function post(o: DeliverOptions, id: string, event: string, body: string): Promise<string | null> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'chekt-contact-sync', 'x-chekt-sync-event': event, 'x-chekt-sync-delivery': id };
  if (o.secret) headers[SIGNATURE_HEADER] = signBody(body, o.secret);
  try {
    const res = await fetch(o.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(o.timeoutMs), redirect: 'error' });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return `${e.name === 'TimeoutError' ? `no answer within ${o.timeoutMs} ms` : e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`.slice(0, 300);
  }
}
