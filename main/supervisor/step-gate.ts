import type { Run } from '../../contracts/runs.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { AppError } from '../errors.ts';
import type { StepMeter } from '../execute/call-meter.ts';
import { requireRunningIn, type SegmentContext } from './segment-context.ts';

/**
 * Step authorisation for one segment: counts its steps and active time, and allows a step
 * only while the run is running, the segment has steps and time left and the budget holds.
 */
export class StepGate {
  readonly #ctx: SegmentContext;
  /** When the segment was granted: active time is charged from here. */
  readonly #startedAt: number;
  /** When the worker first spoke: the segment's own time limit runs from here. */
  #helloAt: number | undefined;
  #steps = 0;
  /** Steps allowed but not yet charged (a pure tool call charges its step when it ends). */
  #heldSteps = 0;
  /** Active milliseconds already added to the run's usage. */
  #charged = 0;

  constructor(ctx: SegmentContext) {
    this.#ctx = ctx;
    this.#startedAt = ctx.deps.clock.now().getTime();
  }

  /** Steps this segment took; a segment that took none made no progress. */
  get steps(): number {
    return this.#steps;
  }

  /** Active milliseconds so far. */
  elapsedMs(): number {
    return this.#ctx.deps.clock.now().getTime() - this.#startedAt;
  }

  /**
   * The worker sent its first message. Its start-up (slow on a busy machine) is charged to
   * the run as active time but does not eat into the segment's own limit.
   */
  workerStarted(): void {
    this.#helloAt ??= this.#ctx.deps.clock.now().getTime();
  }

  #segmentElapsedMs(): number {
    return this.#helloAt === undefined ? 0 : this.#ctx.deps.clock.now().getTime() - this.#helloAt;
  }

  /** Active time not yet charged to the run's wall-clock usage; taking it marks it charged. */
  takeUncharged(): number {
    const now = this.elapsedMs();
    const uncharged = now - this.#charged;
    this.#charged = now;
    return uncharged;
  }

  /**
   * Allows one step (with `tokens` estimated) or throws; charges the step when allowed.
   * Returns the run as charged and the tokens its budget has left.
   */
  async authorizeStep(tokens: number): Promise<{ run: Run; tokensLeft: number }> {
    const verdict = await this.#ctx.deps.chain.transact((tx) =>
      this.#authorizeIn(tx, tokens, true),
    );
    if ('error' in verdict) throw verdict.error;
    return verdict;
  }

  /**
   * The budget check of one step inside a caller's transaction: the run must be running, the
   * segment must have steps and time left, and the budget must hold, counting steps already
   * allowed but not yet charged. Refusals are returned so their effects (a failed run, a
   * budget approval) commit with the transaction. `charge: false` holds the step in memory
   * for the caller to charge with `settleIn` (one segment lives in one host and one worker,
   * so the count is exact).
   */
  async #authorizeIn(
    tx: ChainTx,
    tokens: number,
    charge: boolean,
  ): Promise<{ error: AppError } | { run: Run; tokensLeft: number }> {
    const { deps, grant } = this.#ctx;
    const run = await requireRunningIn(this.#ctx, tx);
    // A person's interrupt (issue 24): the run pauses here, before this step starts anything.
    const interrupted = await deps.steering?.applyInterruptIn(tx, run, 'host');
    if (interrupted !== undefined) return { error: interrupted };
    // The kill switch: a paused host ends every segment at its next step.
    const controls = deps.controls;
    if (controls?.paused === true) {
      return {
        error: new AppError('SEGMENT_ENDED', 'a person paused all agents: checkpoint and exit'),
      };
    }
    // Like a run's budget, the day's cap is checked before a call and may be passed by the
    // one call that crosses it; then the host holds every run until the day turns.
    if (controls !== undefined && tokens > 0 && controls.tokensLeftToday() === 0) {
      return {
        error: new AppError(
          'SEGMENT_ENDED',
          "the host's daily token cap is reached: checkpoint and exit",
        ),
      };
    }
    if (this.#steps >= grant.max_steps || this.#segmentElapsedMs() > grant.max_ms) {
      return {
        error: new AppError('SEGMENT_ENDED', 'this segment is over: checkpoint and exit'),
      };
    }
    const over = await deps.meter.checkIn(tx, run, {
      steps: 1 + this.#heldSteps,
      tokens,
      activeMs: this.elapsedMs() - this.#charged,
    });
    if (over !== undefined) {
      return { error: await deps.meter.overrunIn(tx, run, over, { actor: 'host' }) };
    }
    this.#steps += 1;
    if (!charge) {
      this.#heldSteps += 1;
      const limits = await deps.meter.limitsIn(tx, run);
      return { run, tokensLeft: limits.tokens - run.usage.tokens };
    }
    const usage = await deps.meter.chargeIn(tx, run, { steps: 1 });
    const limits = await deps.meter.limitsIn(tx, run);
    return { run: { ...run, usage }, tokensLeft: limits.tokens - usage.tokens };
  }

  /** How the execute pipeline meters this segment's tool calls, in its own transactions. */
  readonly toolMeter: StepMeter = {
    authorizeIn: async (tx, { charge }) => {
      const verdict = await this.#authorizeIn(tx, 0, charge);
      return 'error' in verdict ? verdict.error : undefined;
    },
    settleIn: async (tx) => {
      this.#heldSteps -= 1;
      // chargeIn reads the run's usage afresh; the granted run gives it the id and session.
      await this.#ctx.deps.meter.chargeIn(tx, this.#ctx.run, { steps: 1 });
    },
    release: () => {
      this.#heldSteps -= 1;
    },
  };
}
