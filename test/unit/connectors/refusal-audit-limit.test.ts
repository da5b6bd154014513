import { describe, expect, it } from 'vitest';
import { RefusalAuditLimit } from '../../../main/connectors/refusal-audit-limit.ts';
import { manualClock } from '../../support/test-store.ts';

describe('RefusalAuditLimit', () => {
  const settings = { per_window: 3, window_ms: 1_000 };

  it('audits the first refusals of a window, counts the rest, and hands the count to the next window', () => {
    const clock = manualClock();
    const limit = new RefusalAuditLimit(clock, settings);
    const audited = Array.from({ length: 5 }, () => limit.admit('hook').audit);
    expect(audited).toEqual([true, true, true, false, false]);
    // Another connector has its own window.
    expect(limit.admit('other')).toEqual({ audit: true, suppressed: null });
    clock.advance(999);
    expect(limit.admit('hook')).toEqual({ audit: false });
    clock.advance(1);
    expect(limit.admit('hook')).toEqual({
      audit: true,
      suppressed: { key: 'hook', count: 3, since: Date.parse('2026-01-01T00:00:00.000Z') },
    });
    expect(limit.admit('hook')).toEqual({ audit: true, suppressed: null });
  });

  it('drains every count not yet recorded, once', () => {
    const clock = manualClock();
    const limit = new RefusalAuditLimit(clock, settings);
    for (let i = 0; i < 5; i++) limit.admit('hook');
    limit.admit('quiet');
    expect(limit.drain()).toEqual([
      { key: 'hook', count: 2, since: Date.parse('2026-01-01T00:00:00.000Z') },
    ]);
    expect(limit.drain()).toEqual([]);
  });
});
