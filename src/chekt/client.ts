import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import ky from 'ky';
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import { createScrubber } from '../scrub.js';
import { parseErrorBody } from './errorBody.js';
import { ChektCancelledError, ChektNetworkError, ChektRateLimitedError, ChektResponseError, ChektTimeoutError, errorForStatus } from './errors/index.js';
import { isFetchFailure, networkCode, parseRetryAfter, safeJsonExact } from './http.js';
import { RateLimitPausedError, type RateLimiter } from './rateLimiter.js';
import { chektContactListSchema, chektContactSchema } from './schemas.js';
import { createHttpTransport } from './transport.js';
import type { TokenProvider } from './token.js';
import type { ChektContactsApi } from './types.js';
import type { ChektContact, CreateContactBody, UpdateContactBody } from '../domain/chektContact.js';
import type { CallScope } from '../sync/ports/operations.js';
import type { SiteRef } from '../domain/site.js';

/**
 * Longest shared pause a single 429 can impose on every process, in ms (1 h): a `Retry-After` far in the future
 * (a wrong clock behind an HTTP-date) must not stop the sync for days.
 */
export const MAX_SHARED_PAUSE_MS = 3_600_000;

/** The five Contacts endpoints as they appear in logs, metrics and `ChektError.endpoint`. */
export type ChektEndpoint = 'GET contacts' | 'GET contacts/{id}' | 'POST contacts' | 'PUT contacts/{id}' | 'DELETE contacts/{id}';

/** One HTTP exchange, reported to {@link ChektClientOptions.onCall} (retries after 401/429 are separate calls). */
export interface ChektCallInfo {
  readonly endpoint: ChektEndpoint;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** HTTP status; `undefined` when no response arrived (timeout, network error). */
  readonly status: number | undefined;
  readonly durationMs: number;
  /** The `x-partner-trace-id` sent. */
  readonly traceId: string;
}

/** Options of {@link createChektClient}. Times are in ms. */
export interface ChektClientOptions {
  /** Base URL without the `/partner/v1` prefix, e.g. `https://api.chekt.com` (docs/CHEKT-API.md#versions-and-environments). */
  readonly apiUrl: string;
  /** Token source; normally a {@link TokenProvider}. */
  readonly tokens: Pick<TokenProvider, 'getToken' | 'renew'>;
  /** Awaited before every HTTP request, including retries. Its optional `pause` is called after a 429. */
  readonly rateLimiter: RateLimiter;
  /** Timeout of one HTTP exchange (headers and body), in ms (config `CHEKT_TIMEOUT_MS`, default 15 000). */
  readonly timeoutMs: number;
  /** Longest single wait for a 429's `Retry-After`, in ms (config `CHEKT_MAX_RETRY_AFTER_SECONDS` × 1000, default 30 000). */
  readonly maxRetryAfterMs: number;
  /** Consecutive 429s answered by waiting and retrying before {@link ChektRateLimitedError} (config default 5). */
  readonly maxRateLimitedRetries: number;
  readonly logger: Logger;
  /** Metrics hook, called once per HTTP exchange; exceptions it throws are ignored. */
  readonly onCall?: (info: ChektCallInfo) => void;
  /**
   * Awaited right before every HTTP request, after the rate limit and the token (the last await before the
   * request leaves). Throwing stops the request: the fencing of job writes (queue/fence.ts) uses it.
   */
  readonly beforeSend?: (request: { readonly endpoint: ChektEndpoint; readonly method: Method }) => Promise<void>;
  /**
   * Aborted when the process stops: no request starts afterwards and every wait (rate limit, 429) ends at once
   * with {@link ChektCancelledError}. Requests already sent finish.
   */
  readonly signal?: AbortSignal;
}

/** Counters of one client instance. */
export interface ChektClientStats {
  /** HTTP exchanges attempted (including retries). */
  readonly requests: number;
  /** Retries after a 401 and a token renewal. */
  readonly authRetries: number;
  /** Retries after waiting out a 429. */
  readonly rateLimitedRetries: number;
}

/** The CHeKT Contacts client: the five endpoints of {@link ChektContactsApi} plus counters. */
export interface ChektClient extends ChektContactsApi {
  /**
   * The same client for one caller (sync/ports/operations.ts `ChektForAttempt`): its writes wait for
   * `scope.beforeWrite` right before they leave, after `beforeSend` (the worker's fencing, queue/fence.ts), and
   * each exchange is reported to `scope.onCall` (the worker logs the trace ids with the outcome).
   */
  forScope(scope: CallScope): ChektContactsApi;
  stats(): ChektClientStats;
}

type Method = ChektCallInfo['method'];

interface RequestSpec<T> {
  readonly method: Method;
  readonly endpoint: ChektEndpoint;
  readonly path: string;
  readonly body?: object;
  /** Statuses that mean success (CHeKT documents create 201, delete 204; 200 accepted for both, docs/CHEKT-API.md#contacts-endpoints). */
  readonly success: readonly number[];
  /** Turns the success body into the result; `undefined` schema means the body is ignored. */
  readonly schema: z.ZodType<T> | undefined;
  /**
   * Result when a success answer carries no usable body (204, empty, or not the documented shape). Only for
   * writes already committed, where failing would make the job retry a write that happened.
   */
  readonly fallback?: () => T;
}

interface Exchange {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
  readonly traceId: string;
}

/**
 * Creates the CHeKT Contacts client (docs/CHEKT-API.md#contacts-endpoints). Paths are
 * `/partner/v1/dealers/{dealerId}/sites/{siteId}/contacts[/{contactId}]`, each id URI-encoded.
 *
 * Every HTTP request: `await rateLimiter.acquire()`, `Authorization: Bearer <token>`, a fresh
 * `x-partner-trace-id` UUID (docs/CHEKT-API.md#trace-ids), `Content-Type: application/json` on bodies, and one log line
 * (`debug` on success, `warn` otherwise) with `{ traceId, endpoint, method, status, durationMs }` only: never the
 * token or contact data. Success bodies are validated with ./schemas.ts.
 *
 * Retries done here, and only these: one retry after a 401 with a renewed token (`tokens.renew(usedToken)`), and up
 * to `maxRateLimitedRetries` retries after consecutive 429s whose `Retry-After` (seconds or HTTP-date; missing →
 * 1 s) is at most `maxRetryAfterMs`, each after that wait and `rateLimiter.pause(ms)` so every process backs off.
 * A longer `Retry-After` is not waited out here: every process is paused for it (at most
 * {@link MAX_SHARED_PAUSE_MS}) and {@link ChektRateLimitedError} is thrown at once, so a job hands the wait back
 * to its queue (docs/RETRIES.md "429"). Likewise a shared pause longer than `maxRetryAfterMs` found before sending
 * throws it (code `paused`). Everything else is thrown for the job to decide (docs/CHEKT-API.md#error-bodies).
 *
 * Every method throws a {@link ChektError} subclass: `ChektBadRequestError` (400/422), `ChektAuthError` (401 after
 * the renewal retry; not retryable), `ChektForbiddenError` (403), `ChektNotFoundError` (404),
 * `ChektConflictError` (409), `ChektRateLimitedError` (429 after the retries), `ChektServerError` (5xx),
 * `ChektTimeoutError`, `ChektNetworkError`, `ChektResponseError` (undocumented status or body failing the
 * schema), `ChektTokenError` (from the token provider).
 */
export function createChektClient(options: ChektClientOptions): ChektClient {
  const { tokens, rateLimiter, timeoutMs, maxRetryAfterMs, maxRateLimitedRetries, logger, onCall, beforeSend, signal } = options;
  const baseUrl = options.apiUrl.replace(/\/+$/, '');
  // ky's own timeout is off: the transport's timer bounds the whole exchange, headers and body (./transport.ts).
  const http = ky.create({ retry: 0, throwHttpErrors: false, timeout: false, fetch: createHttpTransport({ timeoutMs }) });
  const counters = { requests: 0, authRetries: 0, rateLimitedRetries: 0 };

  const contactsPath = (site: SiteRef) => `/partner/v1/dealers/${encodeURIComponent(site.dealerId)}/sites/${encodeURIComponent(site.siteId)}/contacts`;
  const contactPath = (site: SiteRef, contactId: string) => `${contactsPath(site)}/${encodeURIComponent(contactId)}`;

  async function request<T>(spec: RequestSpec<T>, scope: CallScope | undefined): Promise<T> {
    let renewed = false;
    let rateLimited = 0;
    for (;;) {
      const token = await whenAllowed(spec, async () => {
        await rateLimiter.acquire({ maxWaitMs: maxRetryAfterMs, ...(signal ? { signal } : {}) });
        return tokens.getToken();
      });
      await beforeSend?.({ endpoint: spec.endpoint, method: spec.method });
      if (scope && spec.method !== 'GET') await scope.beforeWrite();
      if (signal?.aborted) throw new ChektCancelledError({ endpoint: spec.endpoint });
      const ex = await send(spec, token, scope);
      await rateLimiter.observe?.({ limitPerMinute: headerInt(ex.headers.get('x-ratelimit-limit')), rateLimited: ex.status === 429 });
      if (spec.success.includes(ex.status)) return parseSuccess(spec, ex);
      if (ex.status === 401 && !renewed) {
        renewed = true;
        rateLimited = 0;
        counters.authRetries += 1;
        await tokens.renew(token);
        continue;
      }
      const retryAfterMs = ex.status === 429 ? parseRetryAfter(ex.headers.get('retry-after'), Date.now()) : undefined;
      if (ex.status === 429) {
        const waitMs = retryAfterMs ?? 1000;
        if (waitMs > maxRetryAfterMs) {
          // Past the cap: pause everyone for the whole wait and hand it back to the caller's queue.
          await rateLimiter.pause?.(Math.min(waitMs, MAX_SHARED_PAUSE_MS));
        } else if (rateLimited < maxRateLimitedRetries) {
          rateLimited += 1;
          counters.rateLimitedRetries += 1;
          await rateLimiter.pause?.(waitMs);
          await whenAllowed(spec, () => sleep(waitMs, undefined, signal ? { signal } : {}));
          continue;
        }
      }
      // CHeKT may echo the access token it refused: scrub it (and any credential shape) before keeping the text.
      const body = parseErrorBody(createScrubber([token])(ex.text));
      throw errorForStatus({ endpoint: spec.endpoint, status: ex.status, traceId: ex.traceId, body, retryAfterMs });
    }
  }

  /** Runs a wait, turning a shared pause past the cap and a shutdown into the client's typed errors. */
  async function whenAllowed<T>(spec: RequestSpec<unknown>, wait: () => Promise<T>): Promise<T> {
    try {
      return await wait();
    } catch (e) {
      if (e instanceof RateLimitPausedError) {
        throw new ChektRateLimitedError({ endpoint: spec.endpoint, code: 'paused', detail: e.message, retryAfterMs: e.remainingMs });
      }
      if (signal?.aborted) throw new ChektCancelledError({ endpoint: spec.endpoint, cause: e });
      throw e;
    }
  }

  async function send(spec: RequestSpec<unknown>, token: string, scope: CallScope | undefined): Promise<Exchange> {
    counters.requests += 1;
    const traceId = randomUUID();
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'x-partner-trace-id': traceId,
      accept: 'application/json',
    };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    let status: number | undefined;
    try {
      const res = await http(`${baseUrl}${spec.path}`, {
        method: spec.method,
        headers,
        ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
      });
      status = res.status;
      const text = await res.text();
      report(spec, traceId, status, started, spec.success.includes(status), scope);
      return { status, text, headers: res.headers, traceId };
    } catch (e) {
      report(spec, traceId, status, started, false, scope);
      throw transportError(e, spec.endpoint, traceId, status);
    }
  }

  function report(spec: RequestSpec<unknown>, traceId: string, status: number | undefined, started: number, ok: boolean, scope: CallScope | undefined) {
    const info: ChektCallInfo = { endpoint: spec.endpoint, method: spec.method, status, durationMs: Math.round(performance.now() - started), traceId };
    if (ok) logger.debug(info, 'chekt call');
    else logger.warn(info, 'chekt call failed');
    for (const hook of [onCall, scope?.onCall]) {
      try {
        hook?.(info);
      } catch {
        // A metrics or logging hook must never fail a CHeKT call.
      }
    }
  }

  function transportError(e: unknown, endpoint: ChektEndpoint, traceId: string, status: number | undefined): Error {
    const name = (e as { name?: unknown } | null)?.name;
    if (name === 'TimeoutError') return new ChektTimeoutError({ endpoint, traceId, status, timeoutMs, cause: e });
    if (isFetchFailure(e)) {
      const detail = (e as { message?: unknown }).message;
      return new ChektNetworkError({ endpoint, traceId, status, code: networkCode(e) ?? 'network_error', detail: typeof detail === 'string' ? detail : undefined, cause: e });
    }
    return e as Error;
  }

  function parseSuccess<T>(spec: RequestSpec<T>, ex: Exchange): T {
    if (spec.schema === undefined) return undefined as T;
    // contact_id may be beyond 2^53 (docs/CHEKT-AUTH-AND-IDS.md): read it as exact digits.
    const json = safeJsonExact(ex.text);
    const parsed = spec.schema.safeParse(json);
    if (parsed.success) return parsed.data;
    if (spec.fallback) {
      logger.warn({ traceId: ex.traceId, endpoint: spec.endpoint, status: ex.status }, 'chekt write answered without the contact; assuming it stored what was sent');
      return spec.fallback();
    }
    const detail =
      json === undefined
        ? 'body is not JSON'
        : parsed.error.issues
            .slice(0, 5)
            .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
            .join('; ');
    logger.warn({ traceId: ex.traceId, endpoint: spec.endpoint, status: ex.status }, 'chekt response failed schema');
    throw new ChektResponseError({ endpoint: spec.endpoint, status: ex.status, traceId: ex.traceId, code: 'invalid_response', detail });
  }

  /** The five endpoints; every request honours `scope` when one is given. */
  const endpoints = (scope: CallScope | undefined): ChektContactsApi => ({
    listContacts: (site) => request<ChektContact[]>({ method: 'GET', endpoint: 'GET contacts', path: contactsPath(site), success: [200], schema: chektContactListSchema }, scope),
    getContact: (site, contactId) => request<ChektContact>({ method: 'GET', endpoint: 'GET contacts/{id}', path: contactPath(site, contactId), success: [200], schema: chektContactSchema }, scope),
    createContact: (site, body: CreateContactBody) =>
      request<ChektContact>({ method: 'POST', endpoint: 'POST contacts', path: contactsPath(site), body, success: [201, 200], schema: chektContactSchema }, scope),
    updateContact: (site, contactId, body: UpdateContactBody) =>
      request<ChektContact>(
        {
          method: 'PUT',
          endpoint: 'PUT contacts/{id}',
          path: contactPath(site, contactId),
          body,
          // Seed: 200 with the contact. A 204 or an empty/other body still means the update was applied.
          success: [200, 204],
          schema: chektContactSchema,
          fallback: () => ({
            contactId,
            externalContactId: null,
            firstName: body.first_name ?? null,
            lastName: body.last_name ?? null,
            phoneNumber: body.phone_number || null,
            email: body.email || null,
            createdAt: null,
          }),
        },
        scope,
      ),
    deleteContact: (site, contactId) => request<void>({ method: 'DELETE', endpoint: 'DELETE contacts/{id}', path: contactPath(site, contactId), success: [204, 200], schema: undefined }, scope),
  });

  return { ...endpoints(undefined), forScope: (scope) => endpoints(scope), stats: () => ({ ...counters }) };
}

/** A non-negative whole number from a header, or null when absent or not one. */
function headerInt(value: string | null): number | null {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return null;
  return Number(value);
}
