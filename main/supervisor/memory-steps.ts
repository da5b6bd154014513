import type { Taint } from '../../contracts/labels.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import type { Label } from '../policy/labels.ts';
import { callStepId } from './call-step-id.ts';
import type { SegmentContext } from './segment-context.ts';

/** What one of the worker's memory tools answered carries, and where a person reads it came from. */
export type MemoryStepOutput = { label: Label; taint: Taint; source: string };

/** Longest summary kept, as for a skill's step. */
const MAX_SUMMARY = 500;

/**
 * Records a worker-served `ccos__memory_*` call as the step its call id names (issue 22), in
 * the transaction that served it: the next `llm.complete` finds the result's label, taint and
 * source there, exactly as for a skill's result, instead of counting it unknown. The summary
 * names the tool and what was asked, never a value. A re-issued call (the same id after a
 * crash) rewrites its own row. Without a call id there is no step: the result stays unknown.
 */
export async function recordMemoryStepIn(
  tx: ChainTx,
  ctx: SegmentContext,
  callId: string | undefined,
  call: { tool: string; asked: Record<string, unknown>; ok: boolean },
  output: MemoryStepOutput,
): Promise<void> {
  if (callId === undefined) return;
  const { deps, run, grant } = ctx;
  const now = deps.clock.now().toISOString();
  const row = {
    segment: grant.index,
    summary: deps.redactor
      .redactString(`${call.tool} ${JSON.stringify(call.asked)}`)
      .slice(0, MAX_SUMMARY),
    started_at: now,
    ended_at: now,
    outcome: call.ok ? 'ok' : 'error',
    output_label: JSON.stringify(output.label),
    output_taint: output.taint,
    output_source: output.source,
  };
  await tx.db
    .insertInto('steps')
    // `skill`: the memory tools are the host's built-in tools, like `ccos__transform_*`.
    .values({
      run_id: run.id,
      step_id: callStepId(run.id, callId),
      kind: 'skill',
      tokens: 0,
      ...row,
    })
    .onConflict((oc) => oc.columns(['run_id', 'step_id']).doUpdateSet(row))
    .execute();
}
