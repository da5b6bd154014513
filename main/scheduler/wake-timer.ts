/** A disposable whose disposal is synchronous: cancelling a timer needs no waiting. */
export type TimerHandle = { dispose: () => void };

/**
 * The one real timer the scheduler uses to wake up; what time it is always comes from the
 * injected `Clock`. Tests pass a timer they fire by hand, so no test sleeps.
 */
export type WakeTimer = {
  /** Calls `wake` once after about `delayMs`; disposing cancels it. */
  set: (delayMs: number, wake: () => void) => TimerHandle;
};

export const systemWakeTimer = (): WakeTimer => ({
  set: (delayMs, wake) => {
    const handle = setTimeout(wake, delayMs);
    return {
      dispose: () => {
        clearTimeout(handle);
      },
    };
  },
});
