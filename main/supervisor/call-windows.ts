import type { LlmToolCall } from '../../contracts/llm.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { hashOrUndefined } from '../execute/call-outcome.ts';
import { argumentSources } from './argument-sources.ts';
import type { PreparedPrompt } from './context-window.ts';

/**
 * Keeps, for each tool call an answer asked for, the window it was asked from (issue 22): the
 * gate that later decides the call reads it by (run, call id), in this segment or a later
 * one. A model that reuses a call id overwrites the older window: the step id is derived from
 * the same pair, so the newer answer is the one a re-issue stands for.
 */
export async function recordCallWindowsIn(
  tx: ChainTx,
  runId: string,
  llmStepId: string,
  calls: readonly LlmToolCall[],
  prepared: PreparedPrompt,
): Promise<void> {
  const { window } = prepared;
  const sources = JSON.stringify(
    window.sources.map((s) => ({
      name: s.name,
      step_id: s.step_id,
      label: s.label,
      taint: s.taint,
    })),
  );
  for (const call of calls) {
    const row = {
      llm_step_id: llmStepId,
      label: JSON.stringify(window.label),
      taint: window.taint,
      sources,
      arguments_hash: hashOrUndefined(call.name, call.arguments) ?? '',
      argument_sources: JSON.stringify(argumentSources(call.arguments, prepared.untrusted)),
    };
    await tx.db
      .insertInto('call_windows')
      .values({ run_id: runId, call_id: call.id, ...row })
      .onConflict((oc) => oc.columns(['run_id', 'call_id']).doUpdateSet(row))
      .execute();
  }
}
