import type { JsonSchemaObject, ToolDefinition } from '../../../contracts/skills.ts';
import { toolName } from './tool-definitions.ts';

/**
 * The host's own tools, next to the skills' operations in the one tool list (the registry's
 * `tools()`, which both `GET /v1/skills` and the agent read). Their skill id is reserved: no
 * skill may be installed under it, so a built-in tool name can never belong to a skill.
 */
export const BUILTIN_SKILL_ID = 'ccos';

/** `ccos.skill.load`: the agent asks to load a declarative skill from a URL. */
export const SKILL_LOAD_OPERATION = 'skill_load';
export const SKILL_LOAD_TOOL = toolName(BUILTIN_SKILL_ID, SKILL_LOAD_OPERATION);

export const SKILL_LOAD_INPUT_SCHEMA: JsonSchemaObject = {
  type: 'object',
  properties: {
    url: {
      type: 'string',
      format: 'uri',
      pattern: '^https?://',
      maxLength: 2048,
      description: 'https URL of a skill.md or skill.yaml document',
    },
    force: {
      type: 'boolean',
      description: 'compile a page that is not served as a skill document (it must still be one)',
    },
  },
  required: ['url'],
  additionalProperties: false,
};

/**
 * Always asks a person, whatever the policy pack says: loading a skill grants new effects
 * and scope (a `capability` approval, CHAT-SECURITY-CONTRACT.md).
 */
export const BUILTIN_TOOLS: readonly ToolDefinition[] = [
  {
    name: SKILL_LOAD_TOOL,
    description:
      'Load a declarative skill (skill.md / skill.yaml) from an https URL. A person approves what the skill may reach before it is installed; its operations then appear as tools.',
    parameters: SKILL_LOAD_INPUT_SCHEMA,
    skill_id: BUILTIN_SKILL_ID,
    operation_id: SKILL_LOAD_OPERATION,
    approval: 'always',
  },
];
