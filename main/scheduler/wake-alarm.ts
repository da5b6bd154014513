import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import type { TimerHandle, WakeTimer } from './wake-timer.ts';

export type WakeAlarmDeps = {
  clock: Clock;
  timer: WakeTimer;
  /**
   * Longest the timer sleeps, even when nothing is due sooner: timers run on a monotonic
   * clock, so a wall-clock jump only shows at the next wake, and `setTimeout` overflows past
   * 2^31 ms.
   */
  maxSleepMs: number;
  /** Called when the armed instant (or the longest sleep) has come. */
  wake: () => void;
};

/**
 * One timer set for the earliest due instant of some table or heap, by the injected clock:
 * setting it again replaces the armed wake, so a change re-arms without a second timer.
 * Shared by the scheduler and the outbox dispatcher, which differ only in how they find the
 * earliest instant.
 */
export class WakeAlarm implements Disposable {
  readonly #deps: WakeAlarmDeps;
  #handle: TimerHandle | undefined;
  #wakeAt: number | undefined;

  constructor(deps: WakeAlarmDeps) {
    this.#deps = deps;
  }

  /**
   * Wall-clock ms the last armed wake was for (kept after it fires, so the woken caller can
   * tell a clock jump from lateness); undefined before the first.
   */
  get wakeAt(): number | undefined {
    return this.#wakeAt;
  }

  /** Arms the timer for `dueMs` (wall-clock ms; past instants wake at once), replacing any. */
  setFor(dueMs: number): void {
    this.cancel();
    const now = this.#deps.clock.now().getTime();
    const delay = Math.min(this.#deps.maxSleepMs, Math.max(0, dueMs - now));
    this.#wakeAt = now + delay;
    this.#handle = this.#deps.timer.set(delay, () => {
      this.#handle = undefined;
      this.#deps.wake();
    });
  }

  /** Nothing is due: the armed wake, if any, is cancelled. */
  cancel(): void {
    this.#handle?.dispose();
    this.#handle = undefined;
  }

  dispose(): void {
    this.cancel();
  }
}
