import type { CausalChain } from '../../chain/causal-chain.ts';
import type { ExternalRun } from '../../runs/external-run.ts';

/** The MCP call a `policy.decision` entry is about: who made it, in which run, of which tool. */
export type McpDecisionCall = {
  run: ExternalRun;
  actor: string;
  correlation_id: string | null;
  tool: string;
};

/**
 * Records what the host decided about an MCP call (cancelled, ended, refused, withheld) as a
 * `policy.decision` entry of the session's run, naming the rule and the tool; `data` says the
 * rest and never carries a value the client was not given.
 */
export async function appendMcpDecision(
  chain: CausalChain,
  call: McpDecisionCall,
  entry: { step_id: string | null; rule_id: string; data: Record<string, unknown> },
): Promise<void> {
  await chain.transact(async (tx) => {
    await tx.append({
      event_type: 'policy.decision',
      actor: call.actor,
      correlation_id: call.correlation_id,
      session_id: call.run.run.session_id,
      run_id: call.run.run.id,
      step_id: entry.step_id,
      rule_id: entry.rule_id,
      data: { ...entry.data, tool: call.tool },
    });
  });
}
