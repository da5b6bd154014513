import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { PolicyPack } from '../../../contracts/policy.ts';
import type { SkillOperation } from '../../../contracts/skills.ts';
import type { CausalChain } from '../../chain/causal-chain.ts';
import { UNKNOWN, describeLabel, label } from '../../policy/labels.ts';
import type { OutputLabels } from '../../skills/manifest/output-labels.ts';
import { withheldPlaceholder } from '../../supervisor/context-window.ts';
import { appendMcpDecision, type McpDecisionCall } from './mcp-decision.ts';
import { withheldFromMcp, type McpClientWindow } from './mcp-client-window.ts';
import { failure, resultOf } from './mcp-tool-result.ts';

/** The code of a result the pack does not let an MCP client see. */
export const LABEL_WITHHELD = 'LABEL_WITHHELD';
/** `rule_id` of the `policy.decision` entry a withheld result leaves. */
export const RULE_MCP_CLIENT_LABEL = 'mcp.client_label';

export type ExposureDeps = {
  chain: CausalChain;
  /** What an outcome of this tool carries (the step's record), or undefined when unknown. */
  labelsOf: (tool: string, outcome: ToolCallOutcome) => OutputLabels | undefined;
  /** The operation a tool names (for its output schema), if it is installed. */
  operationOf: (tool: string) => SkillOperation | undefined;
};

/** The call whose outcome is being answered, as the exposure rule needs it. */
export type ExposedCall = McpDecisionCall & { window: McpClientWindow };

/**
 * What an MCP client is answered for a pipeline outcome (issue 22). The contract denies
 * exposure of `pii.*` and `secret.*` values to external agents by default: a result (or an
 * error, which may quote what a server sent) whose label holds an atom the pack does not show
 * (`mcp_client_labels`; never `secret.token`) answers `LABEL_WITHHELD` (an error: its own
 * code, its text replaced) with the visible placeholder the remote-provider rule uses, and leaves a `policy.decision` entry (rule
 * `mcp.client_label`, the label and source, never the value). A result given joins the
 * session's window; a withheld one does not (the client never saw it).
 */
export async function exposedResult(
  deps: ExposureDeps,
  call: ExposedCall,
  pack: PolicyPack,
  outcome: Exclude<ToolCallOutcome, { status: 'paused' }>,
  stepId: string,
): Promise<CallToolResult> {
  // Without the host's record the result counts as unknown and untrusted, as in any window.
  const labels = deps.labelsOf(call.tool, outcome) ?? {
    label: UNKNOWN,
    taint: 'untrusted',
    source: `an unlabelled result of ${call.tool}`,
  };
  const withheld = withheldFromMcp(pack, labels.label);
  if (withheld.length === 0) {
    call.window.gave(labels, stepId);
    return resultOf(outcome, deps.operationOf(call.tool));
  }
  await appendMcpDecision(deps.chain, call, {
    step_id: stepId,
    rule_id: RULE_MCP_CLIENT_LABEL,
    data: {
      decision: 'withheld',
      outcome: outcome.status,
      label: describeLabel(labels.label),
      withheld: describeLabel(label(withheld)),
      source: labels.source,
    },
  });
  const placeholder = withheldPlaceholder({ ...labels, name: labels.source, step_id: stepId });
  const shown = pack.mcp_client_labels ?? [];
  const why = `the policy pack shows MCP clients ${shown.length === 0 ? 'public results only' : `public results and ${shown.join(', ')}`} (mcp_client_labels)`;
  // An error keeps its stable code (it says nothing of the data; the client can act on it).
  // A refusal is the host's own text (public), so what is withheld here is an output or an error.
  const withheldResult =
    outcome.status === 'error'
      ? failure(outcome.code, `${placeholder} (the error's text is withheld: ${why})`)
      : failure(
          LABEL_WITHHELD,
          `${call.tool} ran, and its result is withheld: ${placeholder}; ${why}`,
        );
  return { ...withheldResult, _meta: { ...withheldResult._meta, 'ccos/withheld': true } };
}
