import { describe, expect, it } from 'vitest';
import { ON_TIME_MS, planCatchUp } from '../../../main/scheduler/catch-up.ts';

const MIN = 60_000;
const now = 10 * 60 * MIN;
/** Fires due 180, 120, 60 minutes ago and just now. */
const pending = [180, 120, 60, 0].map((ago) => ({
  instant: now - ago * MIN,
  due: now - ago * MIN,
}));

describe('planCatchUp', () => {
  it('none fires only an on-time newest fire; latest only the newest within the window; all each within it', () => {
    expect(planCatchUp(pending, now, 'none', 60 * MIN, false).map((d) => d.action)).toEqual([
      'miss',
      'miss',
      'miss',
      'fire',
    ]);
    expect(planCatchUp(pending, now, 'latest', 60 * MIN, false).map((d) => d.action)).toEqual([
      'miss',
      'miss',
      'miss',
      'fire',
    ]);
    expect(planCatchUp(pending, now, 'all', 90 * MIN, false).map((d) => d.action)).toEqual([
      'miss',
      'miss',
      'fire',
      'fire',
    ]);
  });

  it('after a long gap with nothing on time, none fires nothing and latest fires the newest within the window', () => {
    const late = pending.slice(0, 3);
    expect(planCatchUp(late, now, 'none', 120 * MIN, false).every((d) => d.action === 'miss')).toBe(
      true,
    );
    expect(planCatchUp(late, now, 'latest', 120 * MIN, false).map((d) => d.action)).toEqual([
      'miss',
      'miss',
      'fire',
    ]);
    expect(planCatchUp(late, now, 'latest', 30 * MIN, false).map((d) => d.action)).toEqual([
      'miss',
      'miss',
      'miss',
    ]);
  });

  it('a fire late by less than ON_TIME_MS is on time under every policy', () => {
    const slow = [{ instant: now - ON_TIME_MS + 1, due: now - ON_TIME_MS + 1 }];
    for (const policy of ['none', 'latest', 'all'] as const)
      expect(planCatchUp(slow, now, policy, 1000, false)[0]?.action).toBe('fire');
  });

  it('when more fires are due beyond this chunk, none of the chunk counts as the newest', () => {
    expect(
      planCatchUp(pending, now, 'latest', 600 * MIN, true).every((d) => d.action === 'miss'),
    ).toBe(true);
  });

  it('names why each missed fire was not run', () => {
    const reasons = planCatchUp(pending, now, 'latest', 90 * MIN, false).map((d) =>
      d.action === 'miss' ? d.code : 'fire',
    );
    expect(reasons).toEqual(['superseded', 'superseded', 'superseded', 'fire']);
    expect(planCatchUp(pending.slice(0, 1), now, 'latest', 60 * MIN, false)[0]).toMatchObject({
      code: 'outside_window',
    });
  });
});
