import type { ChainTx } from '../chain/causal-chain.ts';
import type { AppError } from '../errors.ts';

/**
 * How the caller (the supervisor's segment) meters one tool call: the budget check and the
 * step's charge, done inside the pipeline's own transactions rather than one of their own,
 * so a step costs one commit less (issue 18). A refusal is returned, not thrown: the
 * transaction then commits what the refusal decided (a failed run, a budget approval) and
 * the pipeline throws it afterwards.
 */
export type StepMeter = {
  /**
   * Allows one step or says why not. `charge: false` holds the step in memory instead of
   * writing it, for a call whose first transaction would otherwise write nothing; it is
   * charged by `settleIn` or given back by `release`.
   */
  authorizeIn(tx: ChainTx, options: { charge: boolean }): Promise<AppError | undefined>;
  settleIn(tx: ChainTx): Promise<void>;
  release(): void;
};

/**
 * One call's metering, exactly once whatever path the call takes: in its first writing
 * transaction (the gate, a replay's decision, or the record of an early outcome), settled in
 * the transaction that records its end, released if the call ends without one.
 */
export class CallMeter {
  readonly #meter: StepMeter | undefined;
  #state: 'open' | 'charged' | 'held' | 'closed' = 'open';

  constructor(meter: StepMeter | undefined) {
    this.#meter = meter;
  }

  async authorizeIn(tx: ChainTx, charge: boolean): Promise<AppError | undefined> {
    if (this.#meter === undefined || this.#state !== 'open') return undefined;
    const refusal = await this.#meter.authorizeIn(tx, { charge });
    this.#state = refusal !== undefined ? 'closed' : charge ? 'charged' : 'held';
    return refusal;
  }

  /** In the transaction that records the call's end. */
  async finishIn(tx: ChainTx): Promise<AppError | undefined> {
    if (this.#state === 'open') return this.authorizeIn(tx, true);
    if (this.#state === 'held') {
      this.#state = 'closed';
      await this.#meter?.settleIn(tx);
    }
    return undefined;
  }

  /** After the call: a held step that was never settled (an unexpected error) is given back. */
  release(): void {
    if (this.#state !== 'held') return;
    this.#state = 'closed';
    this.#meter?.release();
  }
}
