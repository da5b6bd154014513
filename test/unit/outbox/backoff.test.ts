import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, parseRetryAfter, retryDelayMs } from '../../../main/outbox/backoff.ts';
import { resultOfStatus } from '../../../main/outbox/delivery-result.ts';

const SETTINGS = { base_delay_ms: 1_000, max_delay_ms: 10_000 };

describe('outbox backoff (docs/outbox.md)', () => {
  it('draws each delay uniformly below min(max, base × 2^(attempts − 1))', () => {
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, SETTINGS, top))).toEqual([
      999, 1_999, 3_999, 7_999, 9_999, 9_999,
    ]);
    expect(retryDelayMs(3, SETTINGS, () => 0)).toBe(0);
    expect(retryDelayMs(3, SETTINGS, () => 0.25)).toBe(1_000);
  });

  it('honours retry-after (seconds or a date) over the backoff, capped', () => {
    const now = new Date('2026-12-03T10:00:00.000Z');
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter('Thu, 03 Dec 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(retryDelayMs(1, SETTINGS, () => 0.5, 7_000)).toBe(7_000);
    expect(retryDelayMs(1, SETTINGS, () => 0.5, 10 * MAX_RETRY_AFTER_MS)).toBe(MAX_RETRY_AFTER_MS);
  });

  it('retries 408, 429 and 5xx and dead-letters every other 4xx at once', () => {
    const category = (s: number) => {
      const r = resultOfStatus(s);
      return r.ok ? 'ok' : r.category;
    };
    expect([200, 204, 408, 429, 500, 503, 400, 401, 403, 404, 409, 422, 302].map(category)).toEqual(
      [
        'ok',
        'ok',
        'timeout',
        'rate_limit',
        'server',
        'server',
        'invalid',
        'auth',
        'auth',
        'invalid',
        'invalid',
        'invalid',
        'invalid',
      ],
    );
  });
});
