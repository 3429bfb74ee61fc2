import { parseErrorBody } from '../../src/chekt/errorBody.js';
import {
  ChektAuthError,
  ChektBadRequestError,
  ChektConflictError,
  ChektError,
  ChektForbiddenError,
  ChektNetworkError,
  ChektNotFoundError,
  ChektRateLimitedError,
  ChektResponseError,
  ChektServerError,
  ChektTimeoutError,
  ChektTokenError,
  errorForStatus,
  isChektError,
} from '../../src/chekt/errors/index.js';
import { parseRetryAfter } from '../../src/chekt/http.js';
import { rateWindowFor } from '../../src/chekt/rateLimiter.js';

const map = (status: number, body = '', retryAfterMs?: number) => errorForStatus({ endpoint: 'POST contacts', status, traceId: 't-1', body: parseErrorBody(body), retryAfterMs });

describe('errorForStatus', () => {
  it.each([
    [400, ChektBadRequestError, false],
    [422, ChektBadRequestError, false],
    [401, ChektAuthError, false],
    [403, ChektForbiddenError, false],
    [404, ChektNotFoundError, false],
    [408, ChektTimeoutError, true],
    [409, ChektConflictError, false],
    [429, ChektRateLimitedError, true],
    [500, ChektServerError, true],
    [503, ChektServerError, true],
    [418, ChektResponseError, false],
    [202, ChektResponseError, false],
  ])('%i → %p (retryable %p)', (status, cls, retryable) => {
    const e = map(status);
    expect(e).toBeInstanceOf(cls);
    expect(e).toBeInstanceOf(ChektError);
    expect(e.retryable).toBe(retryable);
    expect(e.status).toBe(status);
    expect(e.endpoint).toBe('POST contacts');
    expect(e.traceId).toBe('t-1');
    expect(isChektError(e)).toBe(true);
  });

  it('carries code, field and message from the body', () => {
    const e = map(400, '{"error":{"code":"invalid_field","field":"email","message":"bad email","request_id":"req_1"}}');
    expect(e).toMatchObject({ code: 'invalid_field', field: 'email', name: 'ChektBadRequestError' });
    expect(e.message).toContain('bad email');
    expect(e.message).toContain('req_1');
    expect(e.message).toContain('t-1');
  });

  it('keeps retryAfterMs on 429', () => {
    expect((map(429, '', 2500) as ChektRateLimitedError).retryAfterMs).toBe(2500);
  });
});

describe('error classes', () => {
  it('isChektError rejects other errors', () => {
    expect(isChektError(new Error('x'))).toBe(false);
    expect(isChektError(undefined)).toBe(false);
  });

  it('ChektAuthError is retryable only when asked', () => {
    expect(new ChektAuthError({ endpoint: 'GET contacts' }).retryable).toBe(false);
    expect(new ChektAuthError({ endpoint: 'GET contacts', retryable: true }).retryable).toBe(true);
  });

  it('ChektNetworkError and ChektTimeoutError are retryable', () => {
    expect(new ChektNetworkError({ endpoint: 'GET contacts', code: 'ECONNRESET' }).retryable).toBe(true);
    expect(new ChektTimeoutError({ endpoint: 'GET contacts', timeoutMs: 10 }).retryable).toBe(true);
  });

  it.each([
    [undefined, true],
    [429, true],
    [500, true],
    [400, false],
    [401, false],
    [200, false],
  ])('ChektTokenError status %p → retryable %p', (status, retryable) => {
    const e = new ChektTokenError({ status });
    expect(e.retryable).toBe(retryable);
    expect(e.endpoint).toBe('POST token');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  it('reads seconds, decimal seconds and HTTP-dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Mon, 30 Nov 2026 12:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 11:00:00 GMT', now)).toBe(0);
  });
  it('returns undefined for missing or garbage values', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
  });
});

describe('rateWindowFor', () => {
  it('uses 1 s windows of perMinute/60 points from 60/min up', () => {
    expect(rateWindowFor(60)).toEqual({ points: 1, durationSeconds: 1 });
    expect(rateWindowFor(120)).toEqual({ points: 2, durationSeconds: 1 });
    expect(rateWindowFor(600)).toEqual({ points: 10, durationSeconds: 1 });
    expect(rateWindowFor(90)).toEqual({ points: 1, durationSeconds: 1 });
  });
  it('uses longer 1-point windows below 60/min, never exceeding the budget', () => {
    expect(rateWindowFor(30)).toEqual({ points: 1, durationSeconds: 2 });
    expect(rateWindowFor(7)).toEqual({ points: 1, durationSeconds: 9 });
    expect(rateWindowFor(1)).toEqual({ points: 1, durationSeconds: 60 });
    for (let pm = 1; pm <= 3000; pm++) {
      const w = rateWindowFor(pm);
      expect((w.points * 60) / w.durationSeconds).toBeLessThanOrEqual(pm);
    }
  });
  it('rejects budgets below 1', () => {
    expect(() => rateWindowFor(0)).toThrow(RangeError);
  });
});
