import type { Approval } from '../../contracts/approvals.ts';
import type { MemoryPutReply } from '../../contracts/agent-channel.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import type { CallWindow } from '../execute/call-window.ts';
import { hashOrUndefined } from '../execute/call-outcome.ts';
import { RULE_TAINT_GATE, untrustedAskReason, windowRequest } from '../execute/taint-gate.ts';
import { callStepId } from './call-step-id.ts';
import type { SegmentContext } from './segment-context.ts';

/** The worker's memory write tool, as an approval names it. */
const PUT_TOOL = 'ccos__memory_put';

/** What an agent's memory write would store, as the approval shows it and its key covers. */
export type GatedMemoryWrite = {
  key: string;
  value: unknown;
  namespace: string;
  audience: string;
  ttl_ms: number | null;
  call_id: string | undefined;
};

/** The write goes ahead, the run waits for a person, or the write is refused. */
export type MemoryGateVerdict =
  | { kind: 'write' }
  | { kind: 'paused'; reply: Required<MemoryPutReply> }
  | { kind: 'refused'; message: string };

/**
 * The taint gate on an agent's memory writes (issue 22). They are served on the worker's
 * channel, not through the execute pipeline, so the pipeline's gate never sees them; without
 * this a hostile instruction in an untrusted skill response could plant a "fact" the agent
 * (or a later run of the session) reads back as its own. A write asked for from an untrusted
 * window needs a person's approval under the pack's `taint_gate` (default on), exactly as an
 * effectful skill call does: the approval names the window's untrusted sources, covers
 * exactly this write (its key hashes the namespace, key, value, audience and lifetime), is
 * spent by the write it allows, and is never a standing grant (it has no grant basis).
 */
export async function memoryTaintGateIn(
  tx: ChainTx,
  ctx: SegmentContext,
  write: GatedMemoryWrite,
  window: CallWindow,
): Promise<MemoryGateVerdict> {
  const { deps, run, actor } = ctx;
  const pack = deps.labels.policies.forRun(run);
  if (window.taint !== 'untrusted' || (pack.taint_gate ?? 'approval') === 'off') {
    return { kind: 'write' };
  }
  const { call_id: callId, ...covered } = write;
  const stepId = callId === undefined ? undefined : callStepId(run.id, callId);
  const matchKey = hashOrUndefined(PUT_TOOL, covered);
  const shown = { taint_gate: true, ...windowRequest(window) };
  await tx.append({
    event_type: 'policy.decision',
    actor,
    run_id: run.id,
    step_id: stepId ?? null,
    rule_id: RULE_TAINT_GATE,
    data: { tool: PUT_TOOL, decision: 'approval_required', ...shown },
  });
  // Without a call id or a hashable value no re-issued write could be matched to a decision.
  if (matchKey === undefined || stepId === undefined) {
    return refused(
      'a memory write asked for from untrusted data needs an approval, and this one cannot be matched to one (no call id, or a value that is not plain JSON)',
    );
  }
  const usable = await deps.approvals.findUsableIn(tx, run.id, matchKey);
  const decided = usable.find((a) => a.kind === 'operation');
  if (decided !== undefined) {
    // Spent before the write: a crash or a replay cannot write twice on one decision.
    for (const a of usable) await deps.approvals.consumeIn(tx, a.id);
    const refusal = refusalOf(decided);
    return refusal === undefined ? { kind: 'write' } : refused(refusal);
  }
  const { approval } = await deps.approvals.requestAndPauseIn(
    tx,
    {
      run_id: run.id,
      step_id: stepId,
      kind: 'operation',
      rule_id: RULE_TAINT_GATE,
      scope: PUT_TOOL,
      justification: deps.redactor.redactString(
        `the agent wants to write ${write.namespace}/${write.key} to memory, and ${untrustedAskReason(window)}`,
      ),
      permission_diff: [
        { permission: 'execute', to: PUT_TOOL },
        { permission: 'capability', to: 'memory.write' },
        { permission: 'memory', to: `${write.namespace} (${write.audience})` },
      ],
      request: {
        tool: PUT_TOOL,
        params: deps.redactor.redactValue(covered),
        ...shown,
      },
      match_key: matchKey,
    },
    { actor },
  );
  return {
    kind: 'paused',
    reply: {
      paused: {
        reason: `waiting for approval to write ${write.namespace}/${write.key} to memory`,
        approval_id: approval.id,
      },
    },
  };
}

function refused(message: string): MemoryGateVerdict {
  return { kind: 'refused', message };
}

/** Why a decided approval does not let the write happen, or undefined when it does. */
function refusalOf(decided: Approval): string | undefined {
  const why = decided.reason === null ? '' : `: ${decided.reason}`;
  if (decided.state === 'denied') return `a person refused this memory write${why}`;
  if (decided.state === 'expired') return `the approval for this memory write expired${why}`;
  // A narrowed scope is not consent to the write as asked: fail closed.
  if (decided.state === 'modified' && decided.scope !== PUT_TOOL)
    return `a person granted only "${decided.scope}" instead of this memory write${why}`;
  return undefined;
}
