import type { ChannelActivity } from '../agent/channel/serve-agent-channel.ts';
import type { Disposable } from '../disposable.ts';

export type WatchdogLimits = {
  /**
   * From the hand-off (the worker's run and token on its stdin) to its first channel message;
   * a worker started on demand also boots in this time, a pre-started one has already.
   */
  startMs: number;
  /** From that first message to the segment's end (its limit plus the exit grace). */
  segmentMs: number;
  /** Silence on the channel while none of the worker's requests is being answered. */
  silenceMs: number;
};

/**
 * Tells a hung worker from a slow one. Start-up, the segment and silence are timed apart:
 * a worker slow to start on a busy machine is not charged segment time, and a worker waiting
 * for the host (an LLM call, a tool call) is not silent. `onExpired` is called once.
 */
export class WorkerWatchdog implements ChannelActivity, Disposable {
  readonly #limits: WatchdogLimits;
  readonly #onExpired: (reason: string) => void;
  readonly #onHello: () => void;
  #startTimer: NodeJS.Timeout | undefined;
  #segmentTimer: NodeJS.Timeout | undefined;
  #silenceTimer: NodeJS.Timeout | undefined;
  #helloSeen = false;
  #inFlight = 0;
  #expired = false;

  constructor(
    limits: WatchdogLimits,
    onExpired: (reason: string) => void,
    onHello: () => void = () => undefined,
  ) {
    this.#limits = limits;
    this.#onExpired = onExpired;
    this.#onHello = onHello;
  }

  /** Call right before handing the worker its run. */
  start(): void {
    this.#startTimer = this.#after(
      this.#limits.startMs,
      `worker did not start: no channel message within ${seconds(this.#limits.startMs)}`,
    );
  }

  received(): void {
    if (!this.#helloSeen) {
      this.#helloSeen = true;
      clearTimeout(this.#startTimer);
      this.#segmentTimer = this.#after(this.#limits.segmentMs, 'segment time exceeded');
      this.#onHello();
    }
    if (this.#inFlight === 0) this.#armSilence();
  }

  requestStarted(): void {
    this.#inFlight++;
    clearTimeout(this.#silenceTimer);
  }

  requestFinished(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    if (this.#inFlight === 0) this.#armSilence();
  }

  dispose(): void {
    this.#expired = true;
    clearTimeout(this.#startTimer);
    clearTimeout(this.#segmentTimer);
    clearTimeout(this.#silenceTimer);
  }

  #armSilence(): void {
    clearTimeout(this.#silenceTimer);
    this.#silenceTimer = this.#after(
      this.#limits.silenceMs,
      `worker hung: silent on its channel for ${seconds(this.#limits.silenceMs)}`,
    );
  }

  #after(ms: number, reason: string): NodeJS.Timeout {
    return setTimeout(() => {
      if (this.#expired) return;
      this.dispose();
      this.#onExpired(reason);
    }, ms);
  }
}

function seconds(ms: number): string {
  return `${String(Math.round(ms / 100) / 10)} s`;
}
