import type { BudgetCaps, Run } from '../../contracts/runs.ts';
import type { ChainTx, CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { ActorContext } from '../actor-context.ts';
import type { BudgetMeter } from './budget-meter.ts';
import { MCP_SESSION_CLOSED, type RunService } from './run-service.ts';
import { isTerminal } from './transitions.ts';

export type ExternalRunsDeps = {
  chain: CausalChain;
  runs: RunService;
  meter: BudgetMeter;
  clock: Clock;
};

export type OpenExternalRun = {
  goal: string;
  policy_pack: string;
  /** The connector record's caps: the run's budget is lowered to them, as any connector run's. */
  budget_caps: BudgetCaps;
};

/**
 * Runs driven by a client outside the host (issue 25): an MCP session. Such a run is created
 * `running` with driver `external` and no worker; each tool call is a step metered against its
 * budget, and its active time is the time calls are in flight.
 */
export class ExternalRuns {
  readonly #deps: ExternalRunsDeps;

  constructor(deps: ExternalRunsDeps) {
    this.#deps = deps;
  }

  /** Creates the run and starts it in one transaction: it is never `pending`, so never picked. */
  async open(input: OpenExternalRun, ctx: ActorContext): Promise<ExternalRun> {
    const run = await this.#deps.chain.transact(async (tx) => {
      const created = await this.#deps.runs.createIn(
        tx,
        { goal: input.goal, policy_pack: input.policy_pack },
        { ...ctx, origin: 'connector', driver: 'external', budget_caps: input.budget_caps },
      );
      return this.#deps.runs.transitionIn(tx, created.id, 'running', {
        ...ctx,
        reason: 'an MCP session opened',
      });
    });
    return new ExternalRun(this.#deps, run);
  }
}

/** One open external run: its meter and its end. */
export class ExternalRun {
  readonly #deps: ExternalRunsDeps;
  readonly run: Run;
  /** Calls in flight now, and since when at least one has been. */
  #inFlight = 0;
  #busySince = 0;
  /** Active time of intervals already over, and how much of all of it is charged. */
  #closedMs = 0;
  #chargedMs = 0;
  /** Steps allowed but not yet charged (a pure call's, charged when it is recorded). */
  #heldSteps = 0;

  constructor(deps: ExternalRunsDeps, run: Run) {
    this.#deps = deps;
    this.run = run;
  }

  /**
   * Runs `work` as one call in flight: overlapping calls count their union once, so the
   * run's active time is the time any call of the session was running.
   */
  async inFlight<T>(work: () => Promise<T>): Promise<T> {
    if (this.#inFlight === 0) this.#busySince = this.#now();
    this.#inFlight += 1;
    try {
      return await work();
    } finally {
      this.#inFlight -= 1;
      if (this.#inFlight === 0) this.#closedMs += this.#now() - this.#busySince;
    }
  }

  /**
   * How the execute pipeline meters this run's calls, inside its own transactions (the shape
   * of its `StepMeter`, which lives in a later layer).
   */
  readonly meter = {
    authorizeIn: async (
      tx: ChainTx,
      { charge }: { charge: boolean },
    ): Promise<AppError | undefined> => {
      const run = await this.#deps.runs.getIn(tx, this.run.id);
      if (run.state !== 'running') {
        return new AppError(
          'CONFLICT',
          `run ${run.id} of this MCP session is ${run.state}${run.state_reason === null ? '' : ` (${run.state_reason})`}; open a new session`,
          { state: run.state },
        );
      }
      const activeMs = this.#unchargedMs();
      const over = await this.#deps.meter.checkIn(tx, run, {
        steps: 1 + this.#heldSteps,
        activeMs,
      });
      if (over !== undefined) return this.#deps.meter.overrunIn(tx, run, over, { actor: 'host' });
      if (!charge) {
        this.#heldSteps += 1;
        return undefined;
      }
      await this.#chargeIn(tx, 1);
      return undefined;
    },
    settleIn: async (tx: ChainTx): Promise<void> => {
      this.#heldSteps -= 1;
      await this.#chargeIn(tx, 1);
    },
    release: (): void => {
      this.#heldSteps -= 1;
    },
  };

  /**
   * Ends the run `done` (reason `mcp_session_closed`, with why) charging its last active time;
   * a run already ended (cancelled by a person, failed on its budget) is left as it is.
   */
  async close(why: string, ctx: ActorContext): Promise<Run> {
    return this.#deps.chain.transact(async (tx) => {
      const run = await this.#deps.runs.getIn(tx, this.run.id);
      if (isTerminal(run.state)) return run;
      await this.#chargeIn(tx, 0);
      return this.#deps.runs.transitionIn(tx, run.id, 'done', {
        ...ctx,
        reason: `${MCP_SESSION_CLOSED}: ${why}`,
      });
    });
  }

  async #chargeIn(tx: ChainTx, steps: number): Promise<void> {
    const activeMs = this.#unchargedMs();
    await this.#deps.meter.chargeIn(tx, this.run, { steps, wall_clock_ms: activeMs });
    this.#chargedMs += activeMs;
  }

  #unchargedMs(): number {
    const open = this.#inFlight > 0 ? this.#now() - this.#busySince : 0;
    return Math.max(0, this.#closedMs + open - this.#chargedMs);
  }

  #now(): number {
    return this.#deps.clock.now().getTime();
  }
}
