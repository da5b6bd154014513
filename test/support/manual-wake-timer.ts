import type { WakeTimer } from '../../main/scheduler/wake-timer.ts';

/**
 * A scheduler timer that never fires by itself: the test moves its manual clock and then
 * `fire()`s the armed wake-up, so nothing depends on real time.
 */
export type ManualWakeTimer = WakeTimer & {
  /** The delay the scheduler last armed, or undefined when nothing is armed. */
  readonly armed: number | undefined;
  /** How many times the scheduler armed it (each re-arm counts). */
  readonly arms: number;
  /** Calls the armed wake-up, if any; false when nothing was armed. */
  fire: () => boolean;
};

export function manualWakeTimer(): ManualWakeTimer {
  let current: { delay: number; wake: () => void } | undefined;
  let arms = 0;
  return {
    get armed() {
      return current?.delay;
    },
    get arms() {
      return arms;
    },
    set: (delay, wake) => {
      const mine = { delay, wake };
      current = mine;
      arms++;
      return {
        dispose: () => {
          if (current === mine) current = undefined;
        },
      };
    },
    fire: () => {
      const armed = current;
      if (armed === undefined) return false;
      current = undefined;
      armed.wake();
      return true;
    },
  };
}
