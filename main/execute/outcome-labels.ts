import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import type { SkillListEntry } from '../../contracts/skills.ts';
import { PUBLIC } from '../policy/labels.ts';
import { outputLabelsOf, type OutputLabels } from '../skills/manifest/output-labels.ts';
import { parseToolName } from '../skills/manifest/tool-definitions.ts';
import { builtinOutputLabels } from './builtin-output-labels.ts';

/** Where the host's own answers (a refusal, a pause, an unknown tool) come from. */
export const HOST_SOURCE = 'the host';

/**
 * What a tool call's outcome carries, or undefined when the host cannot tell (then it counts
 * as unknown and untrusted). An operation's output — or its error, which may quote what
 * a server sent — carries the operation's labels; a refusal or a pause is the host's own text.
 */
export function outcomeLabelsOf(
  skill: SkillListEntry | undefined,
  tool: string,
  outcome: ToolCallOutcome,
): OutputLabels | undefined {
  if (outcome.status === 'refused' || outcome.status === 'paused')
    return { label: PUBLIC, taint: 'trusted', source: HOST_SOURCE };
  // A transform's error quotes no content (the service's own words), so only its output counts.
  if (outcome.status === 'ok') {
    const builtin = builtinOutputLabels(tool, outcome.output);
    if (builtin !== undefined) return builtin;
  }
  const operationId = parseToolName(tool)?.operationId;
  const op = skill?.operations.find((o) => o.id === operationId);
  if (skill === undefined || op === undefined) {
    // No skill ran: the host answered (an unknown tool, a hash it cannot take).
    return skill === undefined && outcome.status === 'error'
      ? { label: PUBLIC, taint: 'trusted', source: HOST_SOURCE }
      : undefined;
  }
  return outputLabelsOf(skill, op);
}

/** The step columns (migration 0140) for what an outcome carries. */
export function outcomeColumns(labels: OutputLabels | undefined): {
  output_label: string | null;
  output_taint: string | null;
  output_source: string | null;
} {
  return labels === undefined
    ? { output_label: null, output_taint: null, output_source: null }
    : {
        output_label: JSON.stringify(labels.label),
        output_taint: labels.taint,
        output_source: labels.source,
      };
}
