import type { CompleteReply } from '../../contracts/agent-channel.ts';
import type { Run } from '../../contracts/runs.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import {
  lastFailedToolCallIn,
  readCompletionFacts,
  unmetGoals,
  type FailedToolCall,
} from '../runs/completion-check.ts';
import { requireRunningIn, type SegmentContext } from './segment-context.ts';
import type { StepGate } from './step-gate.ts';

/**
 * The worker claims the run complete: refused while a goal's predicate is unmet; accepted,
 * the run is done with its uncharged time charged.
 */
export async function claimComplete(
  ctx: SegmentContext,
  gate: StepGate,
  summary: string | undefined,
): Promise<CompleteReply> {
  const { deps, actor } = ctx;
  return deps.chain.transact(async (tx) => {
    const run = await requireRunningIn(ctx, tx);
    const goals = await deps.runs.goalsIn(tx, run.id);
    const unmet = unmetGoals(goals, await readCompletionFacts(tx, run.id));
    if (unmet.length > 0) {
      await tx.append({
        event_type: 'policy.decision',
        actor,
        session_id: run.session_id,
        run_id: run.id,
        rule_id: 'completion.predicate',
        data: { decision: 'refused', claim: 'complete', unmet: unmet.map((g) => g.ordinal) },
      });
      return { accepted: false, unmet: unmet.map((g) => ({ ordinal: g.ordinal, text: g.text })) };
    }
    await tx.db
      .updateTable('goals')
      .set({ state: 'met' })
      .where('run_id', '=', run.id)
      .where('state', '=', 'open')
      .execute();
    const said = summary === undefined ? null : deps.redactor.redactString(summary).slice(0, 500);
    const failedCall = await lastFailedToolCallIn(tx, run.id);
    if (failedCall !== undefined) await recordClaimAfterFailure(tx, actor, run, failedCall);
    await deps.meter.chargeIn(tx, run, { wall_clock_ms: gate.takeUncharged() });
    await deps.runs.transitionIn(tx, run.id, 'done', {
      actor,
      reason: failedCall === undefined ? said : claimAfterFailureReason(failedCall, said),
    });
    return { accepted: true, unmet: [] };
  });
}

/**
 * The goals hold only by the agent's word, and its last tool call failed: the claim stands
 * (no predicate says otherwise) but is recorded with the failure as its evidence.
 */
async function recordClaimAfterFailure(
  tx: ChainTx,
  actor: string,
  run: Run,
  failed: FailedToolCall,
): Promise<void> {
  await tx.append({
    event_type: 'policy.decision',
    actor,
    session_id: run.session_id,
    run_id: run.id,
    rule_id: 'completion.after_failed_tool_call',
    data: { decision: 'accepted', claim: 'complete', evidence: failed },
  });
}

/** A done run's reason when its claim came right after a failed tool call: the evidence first. */
function claimAfterFailureReason(failed: FailedToolCall, said: string | null): string {
  const evidence = `claimed complete right after a failed tool call: ${failed.tool} ${failed.outcome} (${failed.detail.slice(0, 200)})`;
  return (said === null ? evidence : `${evidence}; the agent said: ${said}`).slice(0, 500);
}
