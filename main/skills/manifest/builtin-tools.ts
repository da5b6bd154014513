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
export const SKILL_LOAD_BUILTIN_TOOLS: readonly ToolDefinition[] = [
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

/*
 * Transforms and declassification (issue 22): the agent's only way to what a quarantined
 * message says. Each takes a pointer or an output id of the run's own session; the
 * outputs are `pii.redacted` until `ccos__declassify` releases one.
 */
export const TRANSFORM_OPERATIONS = {
  summarize: 'transform_summarize',
  extract: 'transform_extract',
  redact: 'transform_redact',
} as const;
export const TRANSFORM_TOOLS = {
  summarize: toolName(BUILTIN_SKILL_ID, TRANSFORM_OPERATIONS.summarize),
  extract: toolName(BUILTIN_SKILL_ID, TRANSFORM_OPERATIONS.extract),
  redact: toolName(BUILTIN_SKILL_ID, TRANSFORM_OPERATIONS.redact),
} as const;
export const VERIFY_OPERATION = 'transform_verify';
export const VERIFY_TOOL = toolName(BUILTIN_SKILL_ID, VERIFY_OPERATION);
export const DECLASSIFY_OPERATION = 'declassify';
export const DECLASSIFY_TOOL = toolName(BUILTIN_SKILL_ID, DECLASSIFY_OPERATION);

const JUSTIFICATION_SCHEMA = {
  type: 'string',
  minLength: 1,
  maxLength: 500,
  description: 'why the task needs this, in words a person reviewing the audit trail can judge',
} as const;

const CONTENT_REF_INPUT_SCHEMA: JsonSchemaObject = {
  type: 'object',
  properties: {
    content_ref: {
      type: 'string',
      pattern: '^q_[0-9a-f]{32}$',
      description: 'the content_ref of a quarantined message of this session',
    },
    justification: JUSTIFICATION_SCHEMA,
  },
  required: ['content_ref', 'justification'],
  additionalProperties: false,
};

const OUTPUT_ID_INPUT_SCHEMA: JsonSchemaObject = {
  type: 'object',
  properties: {
    transform_output_id: {
      type: 'string',
      pattern: '^tfo_[0-9a-f]{32}$',
      description: 'the transform_output_id a transform returned',
    },
    justification: JUSTIFICATION_SCHEMA,
  },
  required: ['transform_output_id', 'justification'],
  additionalProperties: false,
};

const TRANSFORM_DESCRIPTIONS: Record<keyof typeof TRANSFORM_OPERATIONS, string> = {
  summarize:
    'Summarize a quarantined message: {summary, topics?, tasks?}, labelled pii.redacted, identifiers removed.',
  extract:
    'Extract entities (dates, times, amounts; identifiers only as placeholders) and tasks from a quarantined message, labelled pii.redacted.',
  redact:
    'The text of a quarantined message with every identifier (emails, phone numbers, URLs, @handles, the sender and channel ids) replaced, labelled pii.redacted.',
};

/** The transform tools, the verifier, and declassify (which always asks a person). */
export const TRANSFORM_BUILTIN_TOOLS: readonly ToolDefinition[] = [
  ...(Object.keys(TRANSFORM_OPERATIONS) as (keyof typeof TRANSFORM_OPERATIONS)[]).map(
    (kind): ToolDefinition => ({
      name: TRANSFORM_TOOLS[kind],
      description: TRANSFORM_DESCRIPTIONS[kind],
      parameters: CONTENT_REF_INPUT_SCHEMA,
      skill_id: BUILTIN_SKILL_ID,
      operation_id: TRANSFORM_OPERATIONS[kind],
      approval: 'never',
    }),
  ),
  {
    name: VERIFY_TOOL,
    description:
      'Run the redaction verifier on a transform output: {ok, issues} (no long verbatim quotes, no identifiers, a maximum length). Needed before declassify.',
    parameters: OUTPUT_ID_INPUT_SCHEMA,
    skill_id: BUILTIN_SKILL_ID,
    operation_id: VERIFY_OPERATION,
    approval: 'never',
  },
  {
    name: DECLASSIFY_TOOL,
    description:
      'Release a transform output as public. Needs a passing verifier run on its exact bytes and a person’s approval for this run; either alone releases nothing.',
    parameters: OUTPUT_ID_INPUT_SCHEMA,
    skill_id: BUILTIN_SKILL_ID,
    operation_id: DECLASSIFY_OPERATION,
    approval: 'always',
  },
];

/** Every built-in tool, in the order the tool list shows them. */
export const BUILTIN_TOOLS: readonly ToolDefinition[] = [
  ...SKILL_LOAD_BUILTIN_TOOLS,
  ...TRANSFORM_BUILTIN_TOOLS,
];
