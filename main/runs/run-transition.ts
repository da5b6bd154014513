import type { ResumeTrigger, Run, RunState, Usage } from '../../contracts/runs.ts';
import type { ActorContext } from '../actor-context.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import { AppError } from '../errors.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import { readRun } from './run-rows.ts';
import { assertTransition, isTerminal } from './transitions.ts';

export type TransitionOptions = ActorContext & {
  reason?: string | null;
  /** Why a paused or pending run is running again; recorded on the chain entry. */
  trigger?: ResumeTrigger;
  /** New usage, when the transition also meters something (e.g. a retry). */
  usage?: Usage;
  /**
   * For `paused_external_event`: the event type that resumes the run; for `paused_schedule`:
   * the instant (or `schedule:<id>`) it waits for.
   */
  waiting_for?: string;
  /** For `pending`: not started before this instant (an LLM backoff); cleared by any other transition. */
  not_before?: Date;
};

/**
 * Called inside the transaction that moves a run to a terminal state, so what belongs to the
 * run (its pending approvals) closes with it; a throw undoes the transition.
 */
export type RunEndHook = (tx: ChainTx, run: Run, ctx: ActorContext) => Promise<void>;

export type RunTransitionDeps = { clock: Clock; policies: PolicyPacks };

/**
 * The one writer of a run's state: the move is checked against the state machine, and the
 * row, its `run.transition` entry and the end hooks of a terminal move share the caller's
 * transaction, so the database never holds a state the chain does not explain.
 */
export class RunTransitions {
  readonly #deps: RunTransitionDeps;
  readonly #endHooks = new Set<RunEndHook>();

  constructor(deps: RunTransitionDeps) {
    this.#deps = deps;
  }

  /** Runs `hook` whenever a run ends (see `RunEndHook`). */
  registerRunEndHook(hook: RunEndHook): Disposable {
    this.#endHooks.add(hook);
    return { dispose: () => void this.#endHooks.delete(hook) };
  }

  /** Moves a run to `to` in `tx`, or throws ILLEGAL_TRANSITION and changes nothing. */
  async transitionIn(
    tx: ChainTx,
    runId: string,
    to: RunState,
    options: TransitionOptions,
  ): Promise<Run> {
    const before = await readRun(tx.db, runId);
    const reason = options.reason ?? null;
    assertTransition(before.state, to, reason, before.driver);
    if (to === 'paused_external_event' && options.waiting_for === undefined) {
      throw new AppError(
        'INVALID_INPUT',
        'a run waiting for an external event must name its type',
        {
          fields: [{ path: 'waiting_for', message: 'required for paused_external_event' }],
        },
      );
    }
    const now = this.#deps.clock.now().toISOString();
    const after: Run = {
      ...before,
      state: to,
      state_reason: reason,
      usage: options.usage ?? before.usage,
      waiting_for:
        to === 'paused_external_event' || to === 'paused_schedule'
          ? (options.waiting_for ?? null)
          : null,
      not_before:
        to === 'pending' && options.not_before !== undefined
          ? options.not_before.toISOString()
          : null,
      updated_at: now,
    };
    await tx.db
      .updateTable('runs')
      .set({
        state: after.state,
        state_reason: after.state_reason,
        usage: JSON.stringify(after.usage),
        waiting_for: after.waiting_for,
        not_before: after.not_before,
        updated_at: now,
      })
      .where('id', '=', runId)
      .execute();
    await tx.append({
      event_type: 'run.transition',
      actor: options.actor,
      correlation_id: options.correlation_id ?? null,
      session_id: before.session_id,
      run_id: runId,
      policy_pack_version: this.#deps.policies.versionForRun(before),
      data: {
        from: before.state,
        to,
        reason,
        ...(options.trigger === undefined ? {} : { trigger: options.trigger }),
        ...(options.usage === undefined ? {} : { usage: options.usage }),
        ...(after.waiting_for === null ? {} : { waiting_for: after.waiting_for }),
        ...(after.not_before === null ? {} : { not_before: after.not_before }),
      },
    });
    if (isTerminal(to)) {
      const ctx = { actor: options.actor, correlation_id: options.correlation_id ?? null };
      for (const hook of this.#endHooks) await hook(tx, after, ctx);
    }
    return after;
  }
}
