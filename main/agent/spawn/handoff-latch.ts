import type { Writable } from 'node:stream';
import { AppError } from '../../errors.ts';
import { encodeHandoff, type WorkerHandoff } from '../channel/worker-handoff.ts';

/**
 * A worker's one hand-off: writes the run and token to its stdin the first time, refuses
 * every later time — a worker, pooled or not, never serves a second segment.
 */
export class HandoffLatch {
  readonly #stdin: Writable;
  #runId: string | undefined;

  constructor(stdin: Writable) {
    this.#stdin = stdin;
  }

  get runId(): string | undefined {
    return this.#runId;
  }

  handOff(handoff: WorkerHandoff): void {
    if (this.#runId !== undefined) {
      throw new AppError(
        'CONFLICT',
        `this agent worker already serves run ${this.#runId}: a worker is never handed a second segment`,
      );
    }
    this.#runId = handoff.run_id;
    this.#stdin.write(encodeHandoff(handoff));
  }
}
