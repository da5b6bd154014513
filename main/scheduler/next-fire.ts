import type { Schedule } from '../../contracts/schedules.ts';
import { jitterMs } from './jitter.ts';
import { compileTrigger } from './trigger-instants.ts';

/** One instant of a schedule and when it is due (the instant plus its stable jitter). */
export type PlannedFire = { instant: number; due: number };

type Timing = Pick<Schedule, 'id' | 'trigger' | 'start_at' | 'end_at' | 'jitter_ms' | 'created_at'>;

/**
 * The schedule's instants strictly after `afterMs`, within `[start_at, end_at)`, each with
 * its due time. Lazily computed: an iterator, so a caller takes only what it needs.
 */
export function* firesAfter(schedule: Timing, afterMs: number): Generator<PlannedFire> {
  const instants = compileTrigger(schedule.trigger, schedule);
  const start = schedule.start_at === null ? -Infinity : Date.parse(schedule.start_at);
  const end = schedule.end_at === null ? Infinity : Date.parse(schedule.end_at);
  // start_at is inclusive: look from just before it.
  let after = Math.max(afterMs, start - 1);
  for (;;) {
    const instant = instants.next(after);
    if (instant === null || instant >= end) return;
    yield { instant, due: instant + jitterMs(schedule.id, instant, schedule.jitter_ms) };
    after = instant;
  }
}

/** The first instant after `afterMs`, or null when the schedule names no more. */
export function nextFireAfter(schedule: Timing, afterMs: number): PlannedFire | null {
  for (const fire of firesAfter(schedule, afterMs)) return fire;
  return null;
}
