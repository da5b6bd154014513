import { describe, expect, it } from 'vitest';
import { jitterMs } from '../../../main/scheduler/jitter.ts';

describe('jitterMs', () => {
  it('is a pure function of schedule and instant, within [0, max]', () => {
    const at = Date.parse('2026-01-01T00:00:00Z');
    expect(jitterMs('sch_a', at, 600_000)).toBe(jitterMs('sch_a', at, 600_000));
    expect(jitterMs('sch_a', at, 0)).toBe(0);
    for (let i = 0; i < 200; i++) {
      const j = jitterMs(`sch_${i}`, at, 1000);
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThanOrEqual(1000);
    }
  });

  it('spreads schedules that share an instant, and one schedule across its instants', () => {
    const at = Date.parse('2026-01-01T00:00:00Z');
    const bySchedule = new Set(
      Array.from({ length: 100 }, (_, i) => jitterMs(`sch_${i}`, at, 3_600_000)),
    );
    const byInstant = new Set(
      Array.from({ length: 100 }, (_, i) => jitterMs('sch_a', at + i * 3_600_000, 3_600_000)),
    );
    expect(bySchedule.size).toBeGreaterThan(95);
    expect(byInstant.size).toBeGreaterThan(95);
  });
});
