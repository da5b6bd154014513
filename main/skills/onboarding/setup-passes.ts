import type { Logger } from 'pino';

/**
 * When each skill's setup passes run: one at a time per skill (so two triggers never run a
 * step twice at once), now or after a delay (a `wait_for` poll), and none once disposed.
 */
export class SetupPasses {
  readonly #logger: Logger;
  /** Per skill: the pass in progress. */
  readonly #queues = new Map<string, Promise<void>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #disposed = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Runs `work` after the skill's pass in flight; it rejects as `work` does. */
  queue(skillId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#queues.get(skillId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => (this.#disposed ? undefined : work()));
    const settled = next.catch((err: unknown) => {
      this.#logger.error({ err, skill_id: skillId }, 'skill setup pass failed');
    });
    this.#queues.set(skillId, settled);
    void settled.then(() => {
      if (this.#queues.get(skillId) === settled) this.#queues.delete(skillId);
    });
    return next;
  }

  /** Runs `pass` after `ms`, replacing the skill's timer if it had one. */
  later(skillId: string, ms: number, pass: () => Promise<void>): void {
    this.cancel(skillId);
    if (this.#disposed) return;
    this.#timers.set(
      skillId,
      setTimeout(() => {
        this.#timers.delete(skillId);
        void pass();
      }, ms),
    );
  }

  cancel(skillId: string): void {
    const timer = this.#timers.get(skillId);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(skillId);
  }

  /** From now on no pass starts and no timer is set (the host is stopping). */
  close(): void {
    this.#disposed = true;
  }

  /** Closes, stops the timers and waits for the passes in flight. */
  async dispose(): Promise<void> {
    this.close();
    for (const skillId of [...this.#timers.keys()]) this.cancel(skillId);
    await Promise.allSettled([...this.#queues.values()]);
  }
}
