import { AppError } from '../errors.ts';
import { isTerminal } from '../runs/transitions.ts';
import type { NoteHandoff } from './note-handoff.ts';
import { refuseQuotaIn } from './quota-refusal.ts';
import type { SegmentContext } from './segment-context.ts';

/** The `checkpoint` handler of one segment, counted against the pack's checkpoint quota. */
export class SegmentCheckpoints {
  readonly #ctx: SegmentContext;
  readonly #notes: NoteHandoff;
  /** Checkpoints this segment wrote, against its quota. */
  #checkpoints = 0;

  constructor(ctx: SegmentContext, notes: NoteHandoff) {
    this.#ctx = ctx;
    this.#notes = notes;
  }

  async save(state: unknown): Promise<{ checkpoint_id: number }> {
    const { deps, grant, actor } = this.#ctx;
    const verdict = await deps.chain.transact<{ error: AppError } | { checkpoint_id: number }>(
      async (tx) => {
        const run = await deps.runs.getIn(tx, this.#ctx.run.id);
        if (isTerminal(run.state)) {
          throw new AppError(
            'SEGMENT_ENDED',
            `the run is ${run.state}; there is nothing to checkpoint for`,
          );
        }
        const { max_checkpoints: limit, checkpoints_kept: keep } = grant.quotas;
        if (this.#checkpoints >= limit) {
          return {
            error: await refuseQuotaIn(tx, run, 'checkpoints', { limit, used: this.#checkpoints }),
          };
        }
        const id = await deps.checkpoints.saveIn(tx, {
          run_id: run.id,
          session_id: run.session_id,
          segment: grant.index,
          state,
          actor,
          keep,
        });
        this.#checkpoints += 1;
        await this.#notes.markDeliveredIn(tx, run);
        return { checkpoint_id: id };
      },
    );
    if ('error' in verdict) throw verdict.error;
    return verdict;
  }
}
