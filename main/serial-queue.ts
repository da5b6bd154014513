/**
 * Runs async tasks one at a time, in the order they were queued. A task's failure reaches its
 * own caller only; the next task still runs.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(task);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
