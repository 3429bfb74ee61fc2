import { describe, expect, test } from '@jest/globals';
import { reportedRunStatus } from '../../src/domain/runStatus.js';

describe('reportedRunStatus (docs/CONSOLE.md "Status words")', () => {
  test('a completed run says what happened: held first, then failures, else completed', () => {
    expect(reportedRunStatus('completed', { failed: 0, held: 0 })).toBe('completed');
    expect(reportedRunStatus('completed', { failed: 3, held: 0 })).toBe('completed_with_failures');
    expect(reportedRunStatus('completed', { failed: 0, held: 1 })).toBe('held');
    expect(reportedRunStatus('completed', { failed: 2, held: 1 })).toBe('held');
  });

  test('other lifecycle states are reported as stored', () => {
    for (const s of ['planning', 'running', 'failed']) expect(reportedRunStatus(s, { failed: 5, held: 5 })).toBe(s);
  });
});
