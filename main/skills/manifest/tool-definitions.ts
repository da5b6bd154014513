import type { SkillManifest, ToolDefinition } from '../../../contracts/skills.ts';

/** Separates skill and operation in a tool name; neither id may contain it (contracts/skills.ts). */
export const TOOL_NAME_SEPARATOR = '__';

/** The LLM tool name of one operation. */
export function toolName(skillId: string, operationId: string): string {
  return `${skillId}${TOOL_NAME_SEPARATOR}${operationId}`;
}

/** Splits a tool name back into skill and operation, or undefined when it is not one of ours. */
export function parseToolName(name: string): { skillId: string; operationId: string } | undefined {
  const at = name.indexOf(TOOL_NAME_SEPARATOR);
  if (at <= 0) return undefined;
  return { skillId: name.slice(0, at), operationId: name.slice(at + TOOL_NAME_SEPARATOR.length) };
}

/** LLM tool definitions for every operation of a skill: parameters are the operation's input_schema. */
export function toolDefinitions(manifest: SkillManifest): ToolDefinition[] {
  return manifest.operations.map((op) => ({
    name: toolName(manifest.skill_id, op.id),
    description: `${op.description} (skill ${manifest.name} ${manifest.version})`,
    parameters: op.input_schema,
    skill_id: manifest.skill_id,
    operation_id: op.id,
    approval: op.approval,
  }));
}
