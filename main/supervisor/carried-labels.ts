import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import { outcomeLabelsOf } from '../execute/outcome-labels.ts';
import type { SkillRegistry } from '../skills/registry/skill-registry.ts';
import { parseToolName } from '../skills/manifest/tool-definitions.ts';

/**
 * The outcome a worker gets, with the label and taint its output carries (issue 22). The
 * host decides from its own step record; this only tells the agent what it holds.
 */
export function withCarriedLabels(
  registry: SkillRegistry,
  tool: string,
  outcome: ToolCallOutcome,
): ToolCallOutcome {
  if (outcome.status !== 'ok' && outcome.status !== 'error') return outcome;
  const skillId = parseToolName(tool)?.skillId;
  const skill = skillId === undefined ? undefined : registry.find(skillId);
  const labels = outcomeLabelsOf(skill, tool, outcome);
  return {
    ...outcome,
    label: labels === undefined ? undefined : [...labels.label],
    taint: labels?.taint ?? 'untrusted',
  };
}
