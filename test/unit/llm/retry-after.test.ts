import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../../main/agent/llm/llm-errors.ts';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const headers = (h: Record<string, string>) => new Headers(h);

describe('retryAfterMs reads how long a provider asked us to wait', () => {
  it('takes seconds, an HTTP date and OpenAI’s retry-after-ms (which wins)', () => {
    expect(retryAfterMs(headers({ 'retry-after': '2' }), NOW)).toBe(2000);
    expect(retryAfterMs(headers({ 'retry-after': '0.5' }), NOW)).toBe(500);
    expect(retryAfterMs(headers({ 'retry-after': 'Tue, 01 Jan 2030 00:00:30 GMT' }), NOW)).toBe(
      30_000,
    );
    expect(retryAfterMs(headers({ 'retry-after': '9', 'retry-after-ms': '250' }), NOW)).toBe(250);
  });

  it('ignores what it cannot use: nothing, garbage, a negative wait, a date in the past', () => {
    expect(retryAfterMs(undefined, NOW)).toBeUndefined();
    expect(retryAfterMs(headers({}), NOW)).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }), NOW)).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after': '-3' }), NOW)).toBeUndefined();
    expect(
      retryAfterMs(headers({ 'retry-after': 'Mon, 31 Dec 2029 23:59:00 GMT' }), NOW),
    ).toBeUndefined();
  });

  it('caps an absurd wait at a day instead of overflowing a timer', () => {
    expect(retryAfterMs(headers({ 'retry-after': '1e12' }), NOW)).toBe(24 * 60 * 60 * 1000);
  });
});
