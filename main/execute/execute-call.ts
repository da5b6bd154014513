import type { Run } from '../../contracts/runs.ts';
import type { ChainAppendInput } from '../chain/causal-chain.ts';
import type { AuditEnvelope } from '../chain/egress-audit.ts';
import type { ActorContext } from '../actor-context.ts';
import type { StepMeter } from './call-meter.ts';
import type { CallWindow } from './call-window.ts';

/** One tool call an agent makes through `ExecutePipeline.execute`. */
export type ExecuteCall = {
  run: Run;
  step_id: string;
  segment: number;
  /** `<skill_id>__<operation_id>`, as in the agent's tool list. */
  tool: string;
  params: Record<string, unknown>;
  ctx: ActorContext;
  /**
   * The LLM's id for this call. When set, `step_id` is derived from it (the same for every
   * re-issue of the call) and the call runs at most once: a re-issue is answered from the
   * recorded outcome, or with CALL_OUTCOME_UNKNOWN when a run of it started and never ended.
   */
  call_id?: string;
  /**
   * Meters the step inside the call's own transactions (the supervisor's budget check): see
   * `StepMeter`. Absent, the call is not metered here (the host's own calls, the bench).
   */
  meter?: StepMeter;
  /**
   * The window of the LLM answer that asked for the call (issue 22), when a supervised
   * worker's LLM did: the taint gate and egress-by-label judge the call by it. Absent for
   * calls whose model the host does not see (an MCP client's, the host's own).
   */
  window?: CallWindow;
};

/** Where a call happens: its run, session and step, and the request that caused it. */
export function envelopeOf(call: ExecuteCall): AuditEnvelope {
  return {
    correlation_id: call.ctx.correlation_id ?? null,
    session_id: call.run.session_id,
    run_id: call.run.id,
    step_id: call.step_id,
  };
}

/** What every chain entry of a call says about who made it, where. */
export function entryOf(call: ExecuteCall): Omit<ChainAppendInput, 'event_type'> {
  return { actor: call.ctx.actor, ...envelopeOf(call) };
}
