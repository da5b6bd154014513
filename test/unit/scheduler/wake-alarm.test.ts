import { describe, expect, it } from 'vitest';
import { WakeAlarm } from '../../../main/scheduler/wake-alarm.ts';
import { manualWakeTimer } from '../../support/manual-wake-timer.ts';
import { manualClock } from '../../support/test-store.ts';

const MAX_SLEEP_MS = 30_000;

function alarm() {
  const clock = manualClock('2026-12-04T10:00:00.000Z');
  const timer = manualWakeTimer();
  const wakes: number[] = [];
  const a = new WakeAlarm({
    clock,
    timer,
    maxSleepMs: MAX_SLEEP_MS,
    wake: () => wakes.push(clock.now().getTime()),
  });
  return { a, clock, timer, wakes, t0: clock.now().getTime() };
}

describe('the wake alarm the scheduler and the outbox dispatcher share', () => {
  it('arms one timer for the due instant by the injected clock, and wakes once', () => {
    const { a, clock, timer, wakes, t0 } = alarm();
    a.setFor(t0 + 1_500);
    expect(timer.armed).toBe(1_500);
    expect(a.wakeAt).toBe(t0 + 1_500);
    clock.advance(1_500);
    expect(timer.fire()).toBe(true);
    expect(wakes).toEqual([t0 + 1_500]);
    expect(timer.armed).toBeUndefined();
  });

  it('wakes at once for an instant already past, and never sleeps longer than its cap', () => {
    const { a, timer, t0 } = alarm();
    a.setFor(t0 - 60_000);
    expect(timer.armed).toBe(0);
    // A far instant (or one past setTimeout's range) is looked at again after the cap.
    a.setFor(t0 + 2 ** 40);
    expect(timer.armed).toBe(MAX_SLEEP_MS);
    expect(a.wakeAt).toBe(t0 + MAX_SLEEP_MS);
  });

  it('re-arming replaces the armed wake: a change never leaves a second timer behind', () => {
    const { a, timer, wakes, t0 } = alarm();
    a.setFor(t0 + 10_000);
    a.setFor(t0 + 2_000);
    expect([timer.armed, timer.arms]).toEqual([2_000, 2]);
    expect(timer.fire()).toBe(true);
    expect(timer.fire()).toBe(false);
    expect(wakes).toHaveLength(1);
  });

  it('cancelled or disposed, it does not wake; the last wake instant stays readable', () => {
    const { a, timer, wakes, t0 } = alarm();
    a.setFor(t0 + 5_000);
    a.cancel();
    expect(timer.fire()).toBe(false);
    a.setFor(t0 + 7_000);
    a.dispose();
    expect(timer.fire()).toBe(false);
    expect(wakes).toEqual([]);
    // The scheduler reads it after a wake to tell a clock jump from lateness.
    expect(a.wakeAt).toBe(t0 + 7_000);
  });
});
