import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import type { SkillListEntry, SkillOperation } from '../../contracts/skills.ts';
import { needsSetup, type SkillRegistry } from '../skills/registry/skill-registry.ts';
import { parseToolName } from '../skills/manifest/tool-definitions.ts';
import { errorOutcome } from './call-outcome.ts';

/** A tool name's skill and operation, when the skill may run now. */
export type ResolvedTool = { skill: SkillListEntry; op: SkillOperation };

/**
 * The skill and operation a tool name names, or the outcome that says why the call cannot
 * run: no such tool, a disabled skill, or one whose setup is not done.
 */
export function resolveTool(
  registry: SkillRegistry,
  tool: string,
): ResolvedTool | { outcome: ToolCallOutcome } {
  const parsed = parseToolName(tool);
  const skill = parsed === undefined ? undefined : registry.find(parsed.skillId);
  const op = skill?.operations.find((o) => o.id === parsed?.operationId);
  if (skill === undefined || op === undefined) {
    const available = registry.tools().map((t) => t.name);
    return {
      outcome: errorOutcome(
        'NOT_FOUND',
        `no tool named ${tool}; available: ${available.length === 0 ? '(none)' : available.join(', ')}`,
      ),
    };
  }
  if (skill.status !== 'enabled')
    return { outcome: errorOutcome('SKILL_DISABLED', `skill ${skill.skill_id} is disabled`) };
  // Refused before any form or approval is shown: nothing can run until setup is done.
  if (!['OPERATIONAL', 'READY'].includes(skill.onboarding.state)) {
    const refusal = needsSetup(skill.skill_id, skill.onboarding);
    return { outcome: errorOutcome('SKILL_NEEDS_SETUP', refusal.message) };
  }
  return { skill, op };
}
