import type {
  CreateRunInput,
  Goal,
  Run,
  RunEventInput,
  RunFailure,
  RunState,
  Step,
} from '../../contracts/runs.ts';
import type { ActorContext } from '../actor-context.ts';
import type { ChainTx, CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Db } from '../store/schema.ts';
import {
  createIdempotentIn,
  hashPlainIdempotencyKeysIn,
  type IdempotencyRequest,
} from './idempotency-keys.ts';
import { RunCreation, type CreateRunContext } from './run-creation.ts';
import { receiveRunEventIn } from './run-events.ts';
import { listRuns, readLastFailure, readSteps, type ListRunsQuery } from './run-queries.ts';
import { recoverInterruptedRuns, type RecoveryOutcome } from './run-recovery.ts';
import { readGoals, readRun } from './run-rows.ts';
import { RunTransitions, type RunEndHook, type TransitionOptions } from './run-transition.ts';
import type { SessionService } from './session-service.ts';

// Callers import a run's vocabulary from here, whichever file holds each piece.
export { IDEMPOTENCY_KEY_PURPOSE, type IdempotencyRequest } from './idempotency-keys.ts';
export type { CreateRunContext } from './run-creation.ts';
export type { ListRunsQuery } from './run-queries.ts';
export { MCP_SESSION_CLOSED, type RecoveryOutcome } from './run-recovery.ts';
export type { RunEndHook, TransitionOptions } from './run-transition.ts';

/** See `RunServiceDeps.pendingNote`. */
export type PendingNote = { state_reason: string; waiting_for: string; replaces: boolean };

export type RunServiceDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  policies: PolicyPacks;
  sessions: SessionService;
  /**
   * Applied to goal texts before they are stored: a secret a person pasted into a goal is
   * redacted on write like everywhere else (ARCHITECTURE.md §10).
   */
  redactText?: (text: string) => string;
  /**
   * Why a pending run is not started now (no LLM provider, agents paused, the day's tokens
   * spent, every slot taken): what it shows as `waiting_for` and `state_reason`, so a person
   * sees why it does not move. Applied where runs leave this service, never stored: it holds
   * only while the host is so. `replaces: true` wins over the run's own reason (a hold a
   * person set); otherwise the run's own reason, if any, stays.
   */
  pendingNote?: () => PendingNote | undefined;
};

/**
 * Runs and their state machine: the one door callers use. Every state change and its chain
 * entry commit in one transaction (`run-transition.ts`), so the database never holds a state
 * the chain does not explain; creation, events, recovery and reads each live in their own file.
 */
export class RunService {
  readonly #deps: RunServiceDeps;
  readonly #creation: RunCreation;
  readonly #transitions: RunTransitions;

  constructor(deps: RunServiceDeps) {
    this.#deps = deps;
    this.#creation = new RunCreation(deps);
    this.#transitions = new RunTransitions(deps);
  }

  /** Runs `hook` whenever a run ends (see `RunEndHook`). */
  registerRunEndHook(hook: RunEndHook): Disposable {
    return this.#transitions.registerRunEndHook(hook);
  }

  /** Creates a pending run (its kickoff) in a new or given session; 409 if that session is busy. */
  async create(input: CreateRunInput, ctx: CreateRunContext): Promise<Run> {
    return this.#present(
      await this.#deps.chain.transact((tx) => this.#creation.createIn(tx, input, ctx)),
    );
  }

  /** `create` under an `Idempotency-Key` (see `createIdempotentIn`). */
  async createIdempotent(
    input: CreateRunInput,
    ctx: CreateRunContext,
    idempotency: IdempotencyRequest,
  ): Promise<{ run: Run; replayed: boolean }> {
    const result = await this.#deps.chain.transact((tx) =>
      createIdempotentIn(tx, idempotency, () => this.#creation.createIn(tx, input, ctx)),
    );
    return { ...result, run: this.#present(result.run) };
  }

  /** See `hashPlainIdempotencyKeysIn`. */
  async hashPlainIdempotencyKeys(
    hash: (key: string) => string,
    hashedPrefix: string,
  ): Promise<number> {
    return this.#deps.chain.transact((tx) => hashPlainIdempotencyKeysIn(tx, hash, hashedPrefix));
  }

  /** Creates a run inside a caller's transaction (the host's own runs, e.g. a skill's setup). */
  createIn(tx: ChainTx, input: CreateRunInput, ctx: CreateRunContext): Promise<Run> {
    return this.#creation.createIn(tx, input, ctx);
  }

  async get(id: string): Promise<Run> {
    return this.#present(await readRun(this.#deps.db, id));
  }

  /** `get` inside a caller's transaction (the store has one connection: never use `db` there). */
  getIn(tx: ChainTx, id: string): Promise<Run> {
    return readRun(tx.db, id);
  }

  async list(query: ListRunsQuery = {}): Promise<Run[]> {
    return (await listRuns(this.#deps.db, query)).map((run) => this.#present(run));
  }

  goals(runId: string): Promise<Goal[]> {
    return readGoals(this.#deps.db, runId);
  }

  /** `goals` inside a caller's transaction (the completion check reads them with the facts). */
  goalsIn(tx: ChainTx, runId: string): Promise<Goal[]> {
    return readGoals(tx.db, runId);
  }

  steps(runId: string): Promise<Step[]> {
    return readSteps(this.#deps.db, runId);
  }

  /** See `readLastFailure`. */
  lastFailure(runId: string): Promise<RunFailure | null> {
    return readLastFailure(this.#deps.db, runId);
  }

  /** Moves a run to `to`, or throws ILLEGAL_TRANSITION and changes nothing. */
  async transition(runId: string, to: RunState, options: TransitionOptions): Promise<Run> {
    return this.#present(
      await this.#deps.chain.transact((tx) => this.transitionIn(tx, runId, to, options)),
    );
  }

  /** `transition` inside a caller's transaction, for callers that write more alongside it. */
  transitionIn(tx: ChainTx, runId: string, to: RunState, options: TransitionOptions): Promise<Run> {
    return this.#transitions.transitionIn(tx, runId, to, options);
  }

  /**
   * A run as callers see it: a pending run that is not started now says why (`pendingNote`).
   */
  #present(run: Run): Run {
    if (run.state !== 'pending') return run;
    const note = this.#deps.pendingNote?.();
    if (note === undefined) return run;
    return {
      ...run,
      state_reason: note.replaces ? note.state_reason : (run.state_reason ?? note.state_reason),
      waiting_for: note.waiting_for,
    };
  }

  /** See `receiveRunEventIn`. */
  async receiveEvent(
    runId: string,
    event: RunEventInput,
    ctx: ActorContext,
  ): Promise<{ event_id: string; resumed: boolean; run: Run }> {
    const result = await this.#deps.chain.transact((tx) =>
      this.receiveEventIn(tx, runId, event, ctx),
    );
    return { ...result, run: this.#present(result.run) };
  }

  /** `receiveEvent` inside a caller's transaction (a connector message with its envelope). */
  async receiveEventIn(
    tx: ChainTx,
    runId: string,
    event: RunEventInput,
    ctx: ActorContext,
  ): Promise<{ event_id: string; resumed: boolean; run: Run }> {
    const deps = { clock: this.#deps.clock, transitions: this.#transitions };
    return receiveRunEventIn(tx, deps, runId, event, ctx);
  }

  /** Cancels a non-terminal run; cancelling a finished run is ILLEGAL_TRANSITION. */
  cancel(runId: string, ctx: ActorContext, reason?: string): Promise<Run> {
    return this.transition(runId, 'cancelled', {
      ...ctx,
      reason: reason ?? `cancelled by ${ctx.actor}`,
    });
  }

  /** Start-up recovery: see `recoverInterruptedRuns`. */
  recoverInterrupted(ctx: ActorContext): Promise<RecoveryOutcome[]> {
    return recoverInterruptedRuns(
      { db: this.#deps.db, transition: (id, to, options) => this.transition(id, to, options) },
      ctx,
    );
  }
}
