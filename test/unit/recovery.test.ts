import { describe, expect, it } from '@jest/globals';
import { evictionMessage, judgePolicy } from '../../src/recovery/evictionPolicy.js';
import { isReadableOperationData } from '../../src/recovery/unreadableJobs.js';

describe('judgePolicy (Redis maxmemory-policy)', () => {
  it('noeviction is ok; any other policy is evicting, or allowed with REDIS_ALLOW_EVICTION; unreadable is unknown', () => {
    expect(judgePolicy({ policy: 'noeviction', source: 'config' }, false)).toEqual({ status: 'ok' });
    for (const policy of ['volatile-lru', 'allkeys-lru', 'volatile-ttl', 'allkeys-random', 'volatile-lfu']) {
      expect(judgePolicy({ policy, source: 'info' }, false)).toEqual({ status: 'evicting', policy });
      expect(judgePolicy({ policy, source: 'config' }, true)).toEqual({ status: 'allowed', policy });
    }
    expect(judgePolicy({ policy: 'unknown', reason: 'CONFIG GET refused' }, false)).toEqual({ status: 'unknown', reason: 'CONFIG GET refused' });
  });

  it('the message names REDIS_URL, the policy, noeviction and REDIS_ALLOW_EVICTION', () => {
    expect(evictionMessage('volatile-lru')).toMatch(/^REDIS_URL: Redis maxmemory-policy is volatile-lru: .*noeviction.*REDIS_ALLOW_EVICTION=true/);
  });
});

describe('isReadableOperationData (job data Redis may have lost)', () => {
  const whole = { runId: 'r', kind: 'create', reason: 'missing_in_chekt', dealerId: '1', siteId: '2', crmSiteId: 's', externalContactId: 'c', chektContactId: null };
  it('accepts whole job data, with or without approveDeletes', () => {
    expect(isReadableOperationData(whole)).toBe(true);
    expect(isReadableOperationData({ ...whole, kind: 'delete', chektContactId: '9007199254740993', approveDeletes: true })).toBe(true);
  });
  it('refuses what an evicted hash yields ({} or undefined) and any missing or empty id', () => {
    expect(isReadableOperationData({})).toBe(false);
    expect(isReadableOperationData(undefined)).toBe(false);
    for (const key of ['runId', 'dealerId', 'siteId', 'externalContactId', 'kind']) {
      expect(isReadableOperationData({ ...whole, [key]: undefined })).toBe(false);
      expect(isReadableOperationData({ ...whole, [key]: '' })).toBe(false);
    }
    expect(isReadableOperationData({ ...whole, kind: 'upsert' })).toBe(false);
  });
});
