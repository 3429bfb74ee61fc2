import { FaultInjector, mergeFaults, mulberry32, DEFAULT_FAULTS } from '../../src/sandbox/faults.js';
import { RequestRecorder, isUuid } from '../../src/sandbox/recorder.js';
import type { SandboxRequestRecord } from '../../src/sandbox/types.js';

describe('mulberry32', () => {
  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const seqA = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(mulberry32(2)()).not.toBe(seqA[0]);
  });
});

describe('FaultInjector', () => {
  it('never/always fires at rates 0/1 without consuming draws', () => {
    const f = new FaultInjector({ seed: 7, faults: { errorRate: 0.5 } });
    const reference = new FaultInjector({ seed: 7, faults: { errorRate: 0.5 } });
    f.set({ dropAfterCommitRate: 1 });
    expect(f.shouldDropWrite()).toBe(true);
    expect(new FaultInjector({ seed: 7 }).shouldFailRequest()).toBe(false);
    // The drop at rate 1 did not shift the errorRate sequence.
    expect(Array.from({ length: 50 }, () => f.shouldFailRequest())).toEqual(Array.from({ length: 50 }, () => reference.shouldFailRequest()));
  });

  it('fires close to the configured share and repeats after reseed', () => {
    const f = new FaultInjector({ seed: 1, faults: { errorRate: 0.3 } });
    const first = Array.from({ length: 10_000 }, () => f.shouldFailRequest());
    const share = first.filter(Boolean).length / first.length;
    expect(share).toBeGreaterThan(0.28);
    expect(share).toBeLessThan(0.32);
    f.reseed();
    expect(Array.from({ length: 10_000 }, () => f.shouldFailRequest())).toEqual(first);
  });

  it('rejects listed external_contact_ids and hands out copies', () => {
    const f = new FaultInjector({ seed: 1, faults: { rejectExternalContactIds: ['bad-1'] } });
    expect(f.rejects('bad-1')).toBe(true);
    expect(f.rejects('ok-1')).toBe(false);
    f.faults.rejectExternalContactIds.push('ok-1');
    expect(f.rejects('ok-1')).toBe(false);
  });
});

describe('FaultInjector: a strict or picky CHeKT (reachability tests)', () => {
  it('strictPhone refuses a phone that is not E.164 or bare digits; an absent or empty phone passes', () => {
    const f = new FaultInjector({ seed: 1, faults: { strictPhone: true } });
    expect(['+12015550100 ext. 5', '(201) 555-0100', '+12015550100', '12015550100', '', null, undefined].map((phone_number) => f.refusedField({ phone_number }))).toEqual([
      'phone_number',
      'phone_number',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('rejectFields refuses non-empty values of the named fields, phone first', () => {
    const f = new FaultInjector({ seed: 1, faults: { rejectFields: ['email', 'phone_number'] } });
    expect(f.refusedField({ phone_number: '+1', email: 'a@b.c' })).toBe('phone_number');
    expect(f.refusedField({ email: 'a@b.c' })).toBe('email');
    expect(f.refusedField({ email: '' })).toBeUndefined();
  });

  it('dropPhone stores no phone for a write that carries one, and leaves an absent one absent', () => {
    const f = new FaultInjector({ seed: 1, faults: { dropPhone: true } });
    expect([f.storedPhone('+12015550100'), f.storedPhone(null), f.storedPhone(undefined)]).toEqual([null, null, undefined]);
  });
});

describe('mergeFaults', () => {
  it('merges partials over a base', () => {
    expect(mergeFaults({ ...DEFAULT_FAULTS, rejectExternalContactIds: [] }, { latencyMs: 20 })).toEqual({
      latencyMs: 20,
      errorRate: 0,
      dropAfterCommitRate: 0,
      rejectExternalContactIds: [],
      storePhoneDigitsOnly: false,
      listLimit: 0,
      tokenLatencyMs: 0,
      tokenErrorRate: 0,
      retryAfterSeconds: 0,
      strictPhone: false,
      rejectFields: [],
      dropPhone: false,
    });
  });

  it.each([{ errorRate: 1.5 }, { errorRate: -0.1 }, { dropAfterCommitRate: Number.NaN }, { latencyMs: -1 }, { tokenErrorRate: 2 }, { tokenLatencyMs: -5 }, { retryAfterSeconds: -1 }])(
    'throws RangeError for %j',
    (patch) => {
      expect(() => mergeFaults({ ...DEFAULT_FAULTS, rejectExternalContactIds: [] }, patch)).toThrow(RangeError);
    },
  );
});

describe('RequestRecorder', () => {
  const base: SandboxRequestRecord = {
    method: 'POST',
    path: '/partner/v1/dealers/1/sites/1/contacts',
    route: 'POST /partner/v1/dealers/:dealerId/sites/:siteId/contacts',
    status: 201,
    traceId: null,
    traceIdIsUuid: false,
    hasBearer: true,
    at: 0,
  };

  it('counts writes, tokens, 429s and drops exactly', () => {
    const r = new RequestRecorder();
    r.record(base);
    r.record({ ...base, status: 0 });
    r.record({ ...base, status: 429 });
    r.record({ ...base, method: 'GET', route: 'GET /partner/v1/dealers/:dealerId/sites/:siteId/contacts', status: 200 });
    r.record({ ...base, path: '/oauth/token', route: 'POST /oauth/token', status: 200 });
    r.record({ ...base, path: '/oauth/token', route: 'POST /oauth/token', status: 401 });
    expect(r.stats()).toEqual({
      total: 6,
      byRoute: {
        'POST /partner/v1/dealers/:dealerId/sites/:siteId/contacts': 3,
        'GET /partner/v1/dealers/:dealerId/sites/:siteId/contacts': 1,
        'POST /oauth/token': 2,
      },
      byStatus: { '201': 1, '0': 1, '429': 1, '200': 2, '401': 1 },
      writes: 3,
      tokens: 1,
      rateLimited: 1,
      dropped: 1,
    });
    r.reset();
    expect(r.stats().total).toBe(0);
    expect(r.requests()).toEqual([]);
  });

  it('keeps only the last `cap` records but exact counters', () => {
    const r = new RequestRecorder(10);
    for (let i = 0; i < 2500; i += 1) r.record({ ...base, at: i });
    const kept = r.requests();
    expect(kept.map((x) => x.at)).toEqual(Array.from({ length: 10 }, (_, i) => 2490 + i));
    expect(r.stats().total).toBe(2500);
  });
});

describe('isUuid', () => {
  it('accepts RFC 4122 UUIDs (the documented CHeKT example) and nothing else', () => {
    expect(isUuid('550e8400-e29b-41d4-a716-123456789000')).toBe(true);
    expect(isUuid('550E8400-E29B-41D4-A716-123456789000')).toBe(true);
    expect(isUuid('550e8400-e29b-41d4-c716-123456789000')).toBe(false); // variant
    expect(isUuid('550e8400e29b41d4a716123456789000')).toBe(false);
    expect(isUuid('trace-1')).toBe(false);
  });
});
