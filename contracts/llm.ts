import { z } from 'zod';

/**
 * The provider-neutral LLM model (ARCHITECTURE.md §8, issue 7). The agent worker sends a
 * `LlmCompleteRequest` over `ccos/llm.complete`; the gateway hands it to a provider in
 * main/agent/llm and meters the `usage` of the `LlmCompleteResult` it gets back. Provider
 * wire formats (OpenAI chat completions, Anthropic messages) never leave main/agent/llm.
 */

/** A tool name as every provider accepts it (OpenAI and Anthropic share this rule). */
export const llmToolNameSchema = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/);

/** A JSON object: tool arguments and JSON Schema documents. */
const jsonObjectSchema = z.record(z.string(), z.unknown());

/** A tool the assistant asked to call. `arguments` is already parsed: providers that send JSON text are decoded on receipt. */
export const llmToolCallSchema = z.strictObject({
  id: z.string().min(1),
  name: llmToolNameSchema,
  arguments: jsonObjectSchema,
});
export type LlmToolCall = z.infer<typeof llmToolCallSchema>;

export const llmSystemMessageSchema = z.strictObject({
  role: z.literal('system'),
  content: z.string(),
});
export const llmUserMessageSchema = z.strictObject({
  role: z.literal('user'),
  content: z.string(),
});
export const llmAssistantMessageSchema = z.strictObject({
  role: z.literal('assistant'),
  content: z.string(),
  tool_calls: z.array(llmToolCallSchema).optional(),
});
/** The result of one tool call, answering the assistant's call with the same id. */
export const llmToolMessageSchema = z.strictObject({
  role: z.literal('tool'),
  tool_call_id: z.string().min(1),
  content: z.string(),
  /** The call failed; Anthropic passes it on, OpenAI-compatible providers see only the content. */
  is_error: z.boolean().optional(),
});

export const llmMessageSchema = z.discriminatedUnion('role', [
  llmSystemMessageSchema,
  llmUserMessageSchema,
  llmAssistantMessageSchema,
  llmToolMessageSchema,
]);
export type LlmMessage = z.infer<typeof llmMessageSchema>;
export type LlmMessageRole = LlmMessage['role'];

/**
 * A tool offered to the model. Not strict, so the registry's richer tool definitions
 * (contracts/skills.ts `toolDefinitionSchema`) parse into it with their extra keys dropped.
 */
export const llmToolSchema = z.object({
  name: llmToolNameSchema,
  description: z.string(),
  /** A JSON Schema object describing the arguments. */
  parameters: jsonObjectSchema,
});
export type LlmTool = z.infer<typeof llmToolSchema>;

/** What the worker asks for. The gateway parses it at the channel edge; providers trust it. */
export const llmCompleteRequestSchema = z.strictObject({
  messages: z.array(llmMessageSchema).min(1),
  tools: z.array(llmToolSchema).optional(),
  max_output_tokens: z.int().positive().optional(),
  /** OpenAI's 0..2 scale. Anthropic's current Messages API takes none, so it is not sent there. */
  temperature: z.number().min(0).max(2).optional(),
});
export type LlmCompleteRequest = z.infer<typeof llmCompleteRequestSchema>;

/** Why the model stopped: `tool_use` means the message carries tool calls to run. */
export const llmStopReasonSchema = z.enum(['end', 'tool_use', 'max_tokens', 'other']);
export type LlmStopReason = z.infer<typeof llmStopReasonSchema>;

/** Tokens charged to the run. `estimated` is true when the provider reported none and the gateway counted. */
export const llmUsageSchema = z.strictObject({
  input_tokens: z.int().nonnegative(),
  output_tokens: z.int().nonnegative(),
  estimated: z.boolean(),
});
export type LlmUsage = z.infer<typeof llmUsageSchema>;

/** One completion. `message` can be appended to the conversation as it is. */
export const llmCompleteResultSchema = z.strictObject({
  message: z.strictObject({
    role: z.literal('assistant'),
    content: z.string(),
    tool_calls: z.array(llmToolCallSchema),
  }),
  stop_reason: llmStopReasonSchema,
  usage: llmUsageSchema,
  /** The model that answered, as the provider names it. */
  model: z.string(),
});
export type LlmCompleteResult = z.infer<typeof llmCompleteResultSchema>;

/** The name of a secret in the secret store (UPPER_SNAKE_CASE, as the store requires). Settings hold names, never values. */
export const llmSecretNameSchema = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be an UPPER_SNAKE_CASE secret name, e.g. OPENAI_API_KEY');

const httpUrlSchema = z.url({ protocol: /^https?$/ });

/**
 * Where a provider runs, as an egress destination (issue 22, docs/labels.md): `local` on
 * this machine, `remote` anywhere else. Left out, a loopback base URL is local and any other
 * remote; set it to declare a provider remote that listens on loopback (a tunnel, a proxy to
 * a hosted API, a test server) — or local behind a name the host cannot judge.
 */
export const llmLocationSchema = z.enum(['local', 'remote']);
export type LlmLocation = z.infer<typeof llmLocationSchema>;

/** What the replay provider does when its transcript runs out. */
export const llmReplayExhaustedModeSchema = z.enum(['error', 'loop_last']);
export type LlmReplayExhaustedMode = z.infer<typeof llmReplayExhaustedModeSchema>;

/** Which LLM the gateway calls on a run's behalf (Settings → LLM provider). */
export const llmProviderSettingsSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('openai_compatible'),
    /** Up to and including the API version, e.g. `http://127.0.0.1:11434/v1` for Ollama. */
    base_url: httpUrlSchema,
    model: z.string().min(1),
    /** Local servers (Ollama, LM Studio, vLLM) usually need no key. */
    api_key_secret: llmSecretNameSchema.optional(),
    location: llmLocationSchema.optional(),
  }),
  z.strictObject({
    kind: z.literal('anthropic'),
    /** Defaults to the public API; the SDK appends `/v1/messages`. */
    base_url: httpUrlSchema.optional(),
    model: z.string().min(1),
    api_key_secret: llmSecretNameSchema,
    location: llmLocationSchema.optional(),
  }),
  z.strictObject({
    kind: z.literal('replay'),
    /** A transcript file (JSON or JSONL, see `llmReplayTranscriptSchema`). */
    path: z.string().min(1),
    /** Overrides the transcript's own `on_exhausted`. */
    on_exhausted: llmReplayExhaustedModeSchema.optional(),
  }),
]);
export type LlmProviderSettings = z.infer<typeof llmProviderSettingsSchema>;
export type LlmProviderKind = LlmProviderSettings['kind'];

/**
 * A check a replay entry makes on the request it answers, so a test notices when the agent
 * drifts from the script instead of replaying answers to questions that were never asked.
 */
export const llmReplayExpectationSchema = z.strictObject({
  /** Role of the request's last message. */
  last_role: z.enum(['system', 'user', 'assistant', 'tool']).optional(),
  /** The last message is a tool result answering a call of this tool. */
  last_tool_name: llmToolNameSchema.optional(),
  /** The last message's content contains this text. */
  last_content_includes: z.string().optional(),
  /** These tools are offered in the request. */
  tools_include: z.array(llmToolNameSchema).optional(),
});
export type LlmReplayExpectation = z.infer<typeof llmReplayExpectationSchema>;

/** One recorded answer. Without `usage`, the replay charges an estimate flagged as such. */
export const llmReplayEntrySchema = z.strictObject({
  expect: llmReplayExpectationSchema.optional(),
  message: z.strictObject({
    content: z.string().default(''),
    tool_calls: z.array(llmToolCallSchema).default([]),
  }),
  stop_reason: llmStopReasonSchema.optional(),
  usage: llmUsageSchema.omit({ estimated: true }).optional(),
});
export type LlmReplayEntry = z.infer<typeof llmReplayEntrySchema>;

/**
 * A replay transcript. A JSON file holds this object or a bare array of entries; a JSONL
 * file holds one entry per line (blank lines ignored).
 */
export const llmReplayTranscriptSchema = z.strictObject({
  model: z.string().min(1).default('replay'),
  on_exhausted: llmReplayExhaustedModeSchema.default('error'),
  entries: z.array(llmReplayEntrySchema).min(1),
});
export type LlmReplayTranscript = z.infer<typeof llmReplayTranscriptSchema>;
