import { z } from 'zod';
import { errorCodeSchema } from './errors.ts';
import { labelInputSchema, taintSchema } from './labels.ts';

/**
 * Skill manifest (`skill.json`) and the views derived from loaded skills
 * (ARCHITECTURE.md §7). Semantic checks that need more than zod — registered
 * capabilities, JSON Schema compilation, egress policy — live in main/skills/.
 */

/**
 * A skill id: lowercase slug without underscores, so `<skill_id>__<op_id>` tool names split
 * unambiguously and stay within the 64-character limit LLM providers put on tool names.
 */
export const skillIdSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/,
    'must be a lowercase slug: a-z, 0-9 and single hyphens, starting with a letter',
  )
  .max(30);
export type SkillId = z.infer<typeof skillIdSchema>;

/** An operation id is a JavaScript identifier, because the entry exports it by that name. */
export const operationIdSchema = z
  .string()
  .regex(/^[a-z][a-zA-Z0-9_]*$/, 'must be a JavaScript identifier starting with a lowercase letter')
  .max(32)
  .refine((s) => !s.includes('__'), 'must not contain "__" (reserved as the tool-name separator)');
export type OperationId = z.infer<typeof operationIdSchema>;

/** Strict semver 2.0.0 (no leading `v`, no ranges). */
export const semverSchema = z
  .string()
  .regex(
    /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/,
    'must be a semver version such as 1.0.0',
  );

/** A JSON Schema document. Its validity is checked by compiling it (Ajv, draft 2020-12). */
export const jsonSchemaObjectSchema = z.record(z.string(), z.unknown());
export type JsonSchemaObject = z.infer<typeof jsonSchemaObjectSchema>;

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const httpMethodSchema = z.enum(HTTP_METHODS);
export type HttpMethod = z.infer<typeof httpMethodSchema>;

export const approvalModeSchema = z.enum(['never', 'always', 'policy']);
export type ApprovalMode = z.infer<typeof approvalModeSchema>;

export const skillOperationSchema = z.strictObject({
  id: operationIdSchema,
  description: z.string().min(1).max(1024),
  input_schema: jsonSchemaObjectSchema,
  output_schema: jsonSchemaObjectSchema.optional(),
  capabilities: z.array(z.string().min(1)).min(1),
  approval: approvalModeSchema,
  /**
   * The HTTP request a declarative operation makes (the compiler writes it): method and URL
   * template with `{param}` placeholders. Shown to a person deciding an approval; what a
   * skill may actually reach is bound by its egress permissions, not by this.
   */
  http: z.strictObject({ method: httpMethodSchema, url: z.string().min(1).max(2048) }).optional(),
  /**
   * The confidentiality label of what the operation returns (docs/labels.md). Absent, the
   * output is unknown: the most restrictive label, as the contract treats the unknown as PII.
   */
  output_label: labelInputSchema.optional(),
  /**
   * The integrity of what it returns. A declaration can only raise it: an operation that
   * reaches the network (a net.* capability, or the skill's egress) returns untrusted data
   * whatever it declares (main/skills/manifest/output-labels.ts).
   */
  output_taint: taintSchema.optional(),
});
export type SkillOperation = z.infer<typeof skillOperationSchema>;

/** One allowed egress target: an exact origin (scheme, host, port) and the methods allowed there. */
export const egressRuleSchema = z.strictObject({
  origin: z.string().min(1),
  methods: z.array(httpMethodSchema).min(1),
});
export type EgressRule = z.infer<typeof egressRuleSchema>;

/** A secret or namespace name: what a person reads on the consent screen. */
const permissionNameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'must be a plain name: letters, digits, _ . -');

/**
 * A secret the skill may have the host inject, and the origins it may be sent to (each one
 * of the skill's egress origins). A bare name, the earlier form, is bound to every egress
 * origin the skill declares.
 */
export const secretGrantSchema = z.strictObject({
  name: permissionNameSchema,
  origins: z.array(z.string().min(1)).min(1),
});
export type SecretGrant = z.infer<typeof secretGrantSchema>;

export const skillPermissionsSchema = z.strictObject({
  egress: z.array(egressRuleSchema),
  secrets: z.array(z.union([permissionNameSchema, secretGrantSchema])),
  memory_namespaces: z.array(permissionNameSchema),
});
export type SkillPermissions = z.infer<typeof skillPermissionsSchema>;

/** An onboarding step id: a short identifier, unique within the skill. */
export const onboardingStepIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be a short lowercase id such as "register"');

/** Where an `api_call` puts a response field: `memory:<ns>.<key>` or `secret:<NAME>`. */
export const onboardingStoreSchema = z.strictObject({
  /** A JSON pointer (RFC 6901) into the response body, e.g. `/agent/api_key`. */
  from: z.string().max(512),
  to: z.string().max(200),
});

/** One field a person returns from a `human_action` step. */
export const onboardingFieldSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a lowercase field name: a-z, 0-9, _'),
  type: z.enum(['string', 'number', 'integer', 'boolean']).default('string'),
  description: z.string().min(1).max(1024),
});
export type OnboardingField = z.infer<typeof onboardingFieldSchema>;

/**
 * One onboarding step (ARCHITECTURE.md §7; docs/declarative-skills.md "Onboarding"), run by
 * the host — never by an agent — when an admin starts the skill's setup.
 */
export const onboardingStepSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    id: onboardingStepIdSchema,
    kind: z.literal('api_call'),
    operation: z.string().min(1),
    params: z.record(z.string(), z.unknown()).default({}),
    store: z.array(onboardingStoreSchema).default([]),
  }),
  z.strictObject({
    id: onboardingStepIdSchema,
    kind: z.literal('human_action'),
    /** What the person must do; `{{memory.<ns>.<key>}}` placeholders are filled from memory. */
    instructions: z.string().min(1).max(4000),
    fields: z.array(onboardingFieldSchema).min(1),
    /** The memory namespace the answers go to; default: the skill's first namespace. */
    namespace: z.string().min(1).max(64).optional(),
  }),
  z.strictObject({
    id: onboardingStepIdSchema,
    kind: z.literal('wait_for'),
    operation: z.string().min(1),
    params: z.record(z.string(), z.unknown()).default({}),
    /** A JSON Logic rule over `{status, body}` of the operation's response. */
    until: z.record(z.string(), z.unknown()),
    every_s: z.number().min(0.05).max(86_400),
    timeout_s: z
      .number()
      .positive()
      .max(30 * 86_400),
  }),
]);
export type OnboardingStep = z.infer<typeof onboardingStepSchema>;

/** Per-skill onboarding states (ARCHITECTURE.md §7); READY means the skill has no onboarding. */
export const onboardingStateSchema = z.enum([
  'NOT_LOADED',
  'LOADED',
  'NEEDS_SETUP',
  'PENDING_HUMAN_ACTION',
  'OPERATIONAL',
  'READY',
]);
export type OnboardingState = z.infer<typeof onboardingStateSchema>;

/** A skill's onboarding as the API shows it. */
export const skillOnboardingSchema = z.strictObject({
  state: onboardingStateSchema,
  /** Index of the step being worked on (equals the number of steps once done). */
  step: z.number().int().min(0),
  /** What it waits for (an approval, a poll), or why it stopped; absent when nothing. */
  waiting_for: z.string().optional(),
});
export type SkillOnboarding = z.infer<typeof skillOnboardingSchema>;

export const skillManifestSchema = z.strictObject({
  skill_id: skillIdSchema,
  version: semverSchema,
  name: z.string().min(1).max(100),
  description: z.string().min(1).max(2000),
  /** Entry file, relative to the skill folder: one ES module, no imports. */
  entry: z.string().min(1).max(200),
  operations: z.array(skillOperationSchema).min(1, 'a skill needs at least one operation'),
  permissions: skillPermissionsSchema,
  /** Setup steps the host runs before the operations may be used (declarative skills). */
  onboarding: z.array(onboardingStepSchema).optional(),
});
export type SkillManifest = z.infer<typeof skillManifestSchema>;

/** `failed`: installed, but its last reload failed; kept (disabled) until retried or removed. */
export const skillStatusSchema = z.enum(['enabled', 'disabled', 'failed']);
export type SkillStatus = z.infer<typeof skillStatusSchema>;

/** Why an installed skill did not load at start-up. */
export const skillLoadErrorSchema = z.strictObject({
  code: errorCodeSchema,
  message: z.string(),
  at: z.iso.datetime({ offset: true }),
});
export type SkillLoadError = z.infer<typeof skillLoadErrorSchema>;

/** One loaded skill as the API lists it: what it can do and what it may reach. */
export const skillListEntrySchema = z.strictObject({
  skill_id: skillIdSchema,
  version: semverSchema,
  name: z.string(),
  description: z.string(),
  status: skillStatusSchema,
  source: z.string(),
  loaded_at: z.iso.datetime({ offset: true }),
  operations: z.array(skillOperationSchema),
  permissions: skillPermissionsSchema,
  onboarding: skillOnboardingSchema,
  /** Why the skill is `failed`; enabling it retries the load, removing it deletes it. */
  load_error: skillLoadErrorSchema.optional(),
});
export type SkillListEntry = z.infer<typeof skillListEntrySchema>;

/**
 * A value an operation may receive without the agent giving it: its input field `field` is
 * filled from `source` (`run.goal`, `run.id`, `memory:<namespace>.<key>`) when the agent
 * leaves it out and the run's policy pack allows that source. Shown on the install consent.
 */
export const autofillGrantSchema = z.strictObject({
  operation_id: operationIdSchema,
  field: z.string(),
  source: z.string(),
});
export type AutofillGrant = z.infer<typeof autofillGrantSchema>;

/** An LLM tool definition derived from one operation of an enabled skill. */
export const toolDefinitionSchema = z.strictObject({
  /** `<skill_id>__<op_id>`: fits the `^[a-zA-Z0-9_-]{1,64}$` rule of LLM providers. */
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
  description: z.string(),
  parameters: jsonSchemaObjectSchema,
  skill_id: skillIdSchema,
  operation_id: operationIdSchema,
  approval: approvalModeSchema,
});
export type ToolDefinition = z.infer<typeof toolDefinitionSchema>;

/** What subscribers of the registry hear after each change. */
export const skillRegistryChangeSchema = z.strictObject({
  kind: z.enum(['loaded', 'replaced', 'unloaded', 'enabled', 'disabled']),
  skill_id: skillIdSchema,
  version: semverSchema,
});
export type SkillRegistryChange = z.infer<typeof skillRegistryChangeSchema>;

/** An HTTP field name (RFC 9110 `token`). */
const HTTP_HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What a header value may hold: no CR, LF or NUL (request smuggling), nothing above Latin-1. */
const HTTP_HEADER_VALUE = /^[^\r\n\0]*$/;
const HTTP_HEADER_VALUE_LATIN1 = /^[\u0000-\u00ff]*$/;

/** A header value as sent; a skill's own values are checked before anything is sent (issue 17 #26). */
export const headerValueSchema = z
  .string()
  .max(16_384)
  .regex(HTTP_HEADER_VALUE, 'header values may not contain CR, LF or NUL')
  .regex(
    HTTP_HEADER_VALUE_LATIN1,
    'header values may not contain characters above U+00FF (HTTP sends Latin-1; encode the value, e.g. percent-encoding)',
  );

/** The request a skill hands to `ccos.http.fetch`. A header value may reference a secret by name. */
export const skillFetchRequestSchema = z.strictObject({
  url: z.string().min(1).max(8192),
  method: httpMethodSchema.default('GET'),
  headers: z
    .record(
      z.string().min(1).max(256),
      z.union([
        headerValueSchema,
        z.strictObject({
          $secret: z.string().min(1).max(64),
          /** An auth scheme the host puts before the value, e.g. `Bearer` → `Bearer <secret>`. */
          scheme: z
            .string()
            .regex(/^[A-Za-z][A-Za-z0-9-]{0,31}$/)
            .optional(),
        }),
      ]),
    )
    .superRefine((headers, ctx) => {
      for (const name of Object.keys(headers)) {
        if (!HTTP_HEADER_NAME.test(name))
          ctx.addIssue({
            code: 'custom',
            message: `header name ${JSON.stringify(name)} is not allowed: header names are letters, digits and !#$%&'*+-.^_\`|~ only`,
          });
      }
    })
    .default({}),
  body: z.string().optional(),
});
export type SkillFetchRequest = z.infer<typeof skillFetchRequestSchema>;

/** What `ccos.http.fetch` resolves to inside the skill. */
export const skillFetchResponseSchema = z.strictObject({
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
});
export type SkillFetchResponse = z.infer<typeof skillFetchResponseSchema>;
