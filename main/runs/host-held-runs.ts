import type { ChainTx } from '../chain/causal-chain.ts';
import type { ActorContext } from '../actor-context.ts';
import type { CreateRunContext, RunService } from './run-service.ts';
import { isTerminal } from './transitions.ts';

export type HostHeldRunsDeps = { runs: RunService };

/** What a held run is for: its goal, and the reasons its transitions record. */
export type HoldRequest = {
  goal: string;
  /** Recorded on the move to `running`, when the run is first held. */
  started: string;
  /** Why no agent works on it (the `paused_external_event` reason). */
  parked: string;
  /** The event type it "waits for"; no agent or event ever resumes it. */
  waiting_for: string;
};

/**
 * Runs the host holds for work it does itself, not an agent (a skill's setup): approvals
 * need a run to hang on, and the audit trail a run that names who started the work. Such a
 * run is parked in `paused_external_event`, so neither the supervisor nor start-up recovery
 * hands it to an agent, and it ends `done` when the work does. The transition sequence is
 * the run domain's to know: callers hold and release, never move a run themselves.
 */
export class HostHeldRuns {
  readonly #deps: HostHeldRunsDeps;

  constructor(deps: HostHeldRunsDeps) {
    this.#deps = deps;
  }

  /**
   * The id of a run that can carry the work's approvals: `runId` while it has not ended,
   * else a new run, created for `ctx` and parked.
   */
  async holdIn(
    tx: ChainTx,
    runId: string | null,
    request: HoldRequest,
    ctx: CreateRunContext,
  ): Promise<string> {
    const runs = this.#deps.runs;
    const held = runId === null ? undefined : await runs.getIn(tx, runId);
    if (held !== undefined && !isTerminal(held.state)) return held.id;
    const created = await runs.createIn(tx, { goal: request.goal }, ctx);
    await runs.transitionIn(tx, created.id, 'running', { ...ctx, reason: request.started });
    await runs.transitionIn(tx, created.id, 'paused_external_event', {
      ...ctx,
      reason: request.parked,
      waiting_for: request.waiting_for,
    });
    return created.id;
  }

  /**
   * Ends a held run as `done` once its work is. A run no longer parked (a person cancelled
   * it) is left as it is: its end is already recorded.
   */
  async releaseIn(tx: ChainTx, runId: string, reason: string, ctx: ActorContext): Promise<void> {
    const runs = this.#deps.runs;
    const run = await runs.getIn(tx, runId);
    if (run.state !== 'paused_external_event') return;
    await runs.transitionIn(tx, runId, 'pending', { ...ctx, reason });
    await runs.transitionIn(tx, runId, 'running', { ...ctx, reason });
    await runs.transitionIn(tx, runId, 'done', { ...ctx, reason });
  }
}
