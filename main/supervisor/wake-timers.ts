import type { Disposable } from '../disposable.ts';
import type { SupervisorDeps } from './supervisor-deps.ts';

/**
 * The timers that wake the supervisor's pump when a run held back by time may start: the
 * end of the earliest LLM backoff, and the next day when the daily token cap holds the host.
 */
export class WakeTimers implements Disposable {
  readonly #deps: Pick<SupervisorDeps, 'db' | 'clock' | 'controls'>;
  readonly #wake: () => void;
  #disposed = false;
  /** One timer for the earliest pending run still waiting out an LLM backoff. */
  #backoffTimer: NodeJS.Timeout | undefined;
  /** Wakes the pump when a new day lifts the host's daily token cap. */
  #dayTimer: NodeJS.Timeout | undefined;

  constructor(deps: Pick<SupervisorDeps, 'db' | 'clock' | 'controls'>, wake: () => void) {
    this.#deps = deps;
    this.#wake = wake;
  }

  /** A daily token cap holds the host: look again when the day turns. */
  armDayTimer(): void {
    if (this.#deps.controls.paused || this.#dayTimer !== undefined) return;
    const delay =
      Math.max(0, this.#deps.controls.nextDayStart().getTime() - this.#deps.clock.now().getTime()) +
      5;
    this.#dayTimer = setTimeout(() => {
      this.#dayTimer = undefined;
      this.#wake();
    }, delay);
    this.#dayTimer.unref();
  }

  /** Wakes the pump when the earliest backoff of a pending run is over. */
  async armBackoffTimer(): Promise<void> {
    const next = await this.#deps.db
      .selectFrom('runs')
      .select((eb) => eb.fn.min('not_before').as('at'))
      .where('state', '=', 'pending')
      .where('not_before', '>', this.#deps.clock.now().toISOString())
      .executeTakeFirst();
    clearTimeout(this.#backoffTimer);
    this.#backoffTimer = undefined;
    const at = next?.at ?? null;
    if (at === null || this.#disposed) return;
    // A few milliseconds late rather than early: woken early, the run would still be waiting.
    const delay = Math.max(0, Date.parse(at) - this.#deps.clock.now().getTime()) + 5;
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#wake();
    }, delay);
    this.#backoffTimer.unref();
  }

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#backoffTimer);
    clearTimeout(this.#dayTimer);
  }
}
