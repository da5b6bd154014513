import { describe, expect, it } from 'vitest';
import { AppError } from '../../../main/errors.ts';
import { backoffMs, classifyLlmFailure } from '../../../main/supervisor/llm-failure.ts';

const POLICY = { max_consecutive_failures: 5, base_delay_ms: 100, max_delay_ms: 1000 };

describe('classifyLlmFailure', () => {
  it.each([
    ['LLM_AUTH', 401, 'permanent', 'llm_auth: the provider refused the API key (401)'],
    ['LLM_AUTH', 403, 'permanent', 'llm_auth: the provider refused the API key (403)'],
    ['LLM_REJECTED', 404, 'permanent', 'llm_rejected: the provider refused the request (404)'],
    ['LLM_RATE_LIMITED', 429, 'transient', 'llm_rate_limited: the provider is rate limiting (429)'],
    ['LLM_UNAVAILABLE', 503, 'transient', 'llm_unavailable: the provider could not answer (503)'],
  ] as const)('%s %i is %s', (code, status, kind, reason) => {
    const v = classifyLlmFailure(new AppError(code, 'p: said no', { provider: 'p', status }));
    expect(v).toMatchObject({ kind, code, reason: `${reason}: p: said no` });
  });

  it('leaves an abort and errors that are not the provider’s to the old path', () => {
    expect(classifyLlmFailure(new AppError('LLM_ABORTED', 'aborted'))).toBeUndefined();
    expect(classifyLlmFailure(new AppError('SEGMENT_ENDED', 'over'))).toBeUndefined();
    expect(classifyLlmFailure(new Error('boom'))).toBeUndefined();
  });

  it('keeps the retry-after the provider gave', () => {
    const e = new AppError('LLM_RATE_LIMITED', 'slow', { status: 429, retry_after_ms: 7000 });
    expect(classifyLlmFailure(e)?.retryAfterMs).toBe(7000);
  });
});

describe('backoffMs', () => {
  it('doubles from the base, honours retry-after, and never passes the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(POLICY, n, undefined))).toEqual([
      100, 200, 400, 800, 1000,
    ]);
    expect(backoffMs(POLICY, 1, 700)).toBe(700);
    expect(backoffMs(POLICY, 1, 60_000)).toBe(1000);
    expect(backoffMs(POLICY, 1000, undefined)).toBe(1000);
  });
});
