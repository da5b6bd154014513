import type { Run } from '../../contracts/runs.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import type { WaitingNote } from '../runs/run-steering.ts';
import type { SegmentContext } from './segment-context.ts';

/**
 * A person's notes on their way to one segment's worker (issue 24): handed out with an LLM
 * answer, delivered once the worker checkpoints a state that holds them.
 */
export class NoteHandoff {
  readonly #ctx: SegmentContext;
  /** Notes handed to the worker with an LLM answer, delivered once it checkpoints them. */
  readonly #handedOut = new Set<string>();
  #awaitingCheckpoint: string[] = [];

  constructor(ctx: SegmentContext) {
    this.#ctx = ctx;
  }

  /** The notes waiting for the run that this segment has not handed out yet. */
  waitingIn(tx: ChainTx): Promise<WaitingNote[]> {
    const steering = this.#ctx.deps.steering;
    if (steering === undefined) return Promise.resolve([]);
    return steering.waitingNotesIn(tx, this.#ctx.run.id, this.#handedOut);
  }

  /** The worker was answered with `notes`: they wait for its next checkpoint. */
  handOut(notes: readonly WaitingNote[]): void {
    for (const n of notes) this.#handedOut.add(n.id);
    this.#awaitingCheckpoint.push(...notes.map((n) => n.id));
  }

  /**
   * Notes handed out before this checkpoint are in the state it saved: delivered, so a
   * crash from here on does not send them again, and one before it does.
   */
  async markDeliveredIn(tx: ChainTx, run: Run): Promise<void> {
    await this.#ctx.deps.steering?.markDeliveredIn(
      tx,
      run,
      this.#awaitingCheckpoint,
      this.#ctx.grant.index,
      this.#ctx.actor,
    );
    this.#awaitingCheckpoint = [];
  }
}
