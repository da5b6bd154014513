import { z } from 'zod';
import { llmCompleteRequestSchema, llmCompleteResultSchema } from './llm.ts';
import { labelAtomSchema, taintSchema } from './labels.ts';
import { agentMemoryAudienceSchema } from './memory.ts';
import { goalSchema } from './runs.ts';
import { deliveredNoteSchema } from './steering.ts';
import { MAX_FOLLOW_UP_MS, MIN_FOLLOW_UP_MS } from './schedules.ts';

/**
 * The agent channel (ARCHITECTURE.md §8): JSON-RPC 2.0 framed as MCP over the worker's
 * stdio. Standard MCP `tools/list` and `tools/call` carry the skills; these `ccos/*`
 * methods carry the rest. Every request carries the worker's agent-session token in
 * `params._meta.ccos_token`, checked by the host on each call.
 */
export const AGENT_METHODS = {
  sessionInfo: 'ccos/session.info',
  llmComplete: 'ccos/llm.complete',
  checkpoint: 'ccos/checkpoint',
  complete: 'ccos/complete',
  memoryGet: 'ccos/memory.get',
  memoryPut: 'ccos/memory.put',
  /** Keys (never values) of a namespace the run may see (issue 22). */
  memoryList: 'ccos/memory.list',
  /** Pause and be resumed later (params `followUpRequestSchema`, contracts/schedules.ts). */
  scheduleResume: 'ccos/schedule.resume',
} as const;

/**
 * The one tool the worker itself offers the model (the host's tools come from
 * `tools/list`): when the model calls it, the worker asks the host through
 * `ccos/schedule.resume` to pause the run and resume it later, with the conversation saved
 * so it continues from that call. `ccos__` is reserved for the host's own tools.
 */
export const RESUME_LATER_TOOL = {
  name: 'ccos__resume_later',
  description:
    'Pause this run and continue it later: after `after_seconds`, at `at` (an ISO 8601 instant), or — with neither — when a schedule set up for this run wakes it. Your work is saved; you continue right here when the run resumes. Use it to wait for something that takes time, or between heartbeats.',
  parameters: {
    type: 'object',
    properties: {
      after_seconds: {
        type: 'integer',
        minimum: MIN_FOLLOW_UP_MS / 1000,
        maximum: MAX_FOLLOW_UP_MS / 1000,
      },
      at: { type: 'string', format: 'date-time' },
      reason: { type: 'string', maxLength: 500 },
      // --- waiting for a message (issue 23) ---
      until_message: {
        type: 'boolean',
        description:
          "With true (and no time): wait until the next message of this run's channel arrives.",
      },
    },
    additionalProperties: false,
  },
} as const;

/** The arguments the model gives `ccos__resume_later`. */
export const resumeLaterArgsSchema = z.strictObject({
  after_seconds: z
    .number()
    .int()
    .min(MIN_FOLLOW_UP_MS / 1000)
    .max(MAX_FOLLOW_UP_MS / 1000)
    .optional(),
  at: z.iso.datetime({ offset: true }).optional(),
  reason: z.string().max(500).optional(),
  // --- waiting for a message (issue 23) ---
  until_message: z.boolean().optional(),
});

/**
 * The `params._meta` key of a `tools/call` carrying the LLM's id for that tool call. The
 * host runs a call with a given id at most once per run: a worker that re-issues it after
 * a crash gets the recorded outcome back instead of a second side effect.
 */
export const CALL_ID_META_KEY = 'ccos_call_id';
/** What the host accepts as a call id; a worker sends none for an id outside it. */
export const toolCallIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/);

/** Where the worker stands: what to do, where it left off, and what it may still spend. */
export const agentSessionInfoSchema = z.strictObject({
  run_id: z.string(),
  goal: z.string(),
  goals: z.array(goalSchema),
  /** The state the previous segment checkpointed, or null on the first segment. */
  checkpoint: z.unknown().nullable(),
  segment: z.strictObject({
    index: z.number().int().min(0),
    /** Steps (LLM or tool calls) this segment may take before it must checkpoint and exit. */
    max_steps: z.number().int().positive(),
    /** Wall-clock milliseconds this segment may last. */
    max_ms: z.number().int().positive(),
  }),
  remaining: z.strictObject({
    steps: z.number().int().min(0),
    tokens: z.number().int().min(0),
  }),
});
export type AgentSessionInfo = z.infer<typeof agentSessionInfoSchema>;

export const llmCompleteParamsSchema = z.strictObject({ request: llmCompleteRequestSchema });
/**
 * The LLM's answer, and the person's notes the host added to that request (after its last
 * message): the worker keeps them in its conversation before the answer, so they survive its
 * checkpoint and are not sent again (the host counts them delivered at that checkpoint).
 */
export const llmCompleteReplySchema = llmCompleteResultSchema.extend({
  notes: z.array(deliveredNoteSchema).optional(),
});
export type LlmCompleteReply = z.infer<typeof llmCompleteReplySchema>;

/** Checkpoint state is the agent's own JSON, size-capped by the host. */
export const checkpointParamsSchema = z.strictObject({ state: z.unknown() });
export const checkpointReplySchema = z.strictObject({ checkpoint_id: z.number().int() });

/** The agent claims the goal is met; the host checks every goal's predicate before Done. */
export const completeParamsSchema = z.strictObject({ summary: z.string().max(4000).optional() });
export const completeReplySchema = z.strictObject({
  accepted: z.boolean(),
  /** Goals whose predicate does not hold yet (when not accepted). */
  unmet: z.array(z.strictObject({ ordinal: z.number().int(), text: z.string() })),
});
export type CompleteReply = z.infer<typeof completeReplySchema>;

/**
 * A namespace as an agent names it: `run` (the default: this run's own), `goal` (the current
 * goal's), `session` (every run of this session), or one the run's policy pack shares. The
 * host maps it to where it is stored; an agent never names a stored namespace.
 */
const agentNamespaceSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ and - only');
const memoryKeySchema = z.string().min(1).max(200);
/**
 * The LLM's id for the tool call that asked for a memory method (issue 22): the host records
 * the call as that call's step, with its output's label, so the next window joins it exactly,
 * and labels a write by the window that asked for it. Without one the host cannot trace the
 * call: a read's result then counts as unknown and untrusted, and so does a write.
 */
const memoryCallIdSchema = toolCallIdSchema.optional();

export const memoryGetParamsSchema = z.strictObject({
  key: memoryKeySchema,
  namespace: agentNamespaceSchema.optional(),
  call_id: memoryCallIdSchema,
});
/**
 * The value (null when absent, expired or withheld: the three read alike), with the item's
 * label and taint so the context window that receives it is labelled by it.
 */
export const memoryGetReplySchema = z.strictObject({
  value: z.unknown(),
  label: z.array(labelAtomSchema).optional(),
  taint: taintSchema.optional(),
});
export type MemoryGetReply = z.infer<typeof memoryGetReplySchema>;
export const memoryPutParamsSchema = z.strictObject({
  key: memoryKeySchema,
  value: z.unknown(),
  namespace: agentNamespaceSchema.optional(),
  /** Who may read it; at most what the namespace allows (default: the namespace's own). */
  audience: agentMemoryAudienceSchema.optional(),
  /** How long the item lives; default the pack's (none: no expiry). */
  ttl_ms: z
    .number()
    .int()
    .min(1000)
    .max(366 * 24 * 60 * 60 * 1000)
    .optional(),
  call_id: memoryCallIdSchema,
});
export type MemoryPutParams = z.infer<typeof memoryPutParamsSchema>;
/**
 * Stored (`{}`), or held for a person's approval (the taint gate, issue 22): the run is paused
 * on it and the worker re-issues the same call when it resumes.
 */
export const memoryPutReplySchema = z.strictObject({
  paused: z.strictObject({ reason: z.string(), approval_id: z.string() }).optional(),
});
export type MemoryPutReply = z.infer<typeof memoryPutReplySchema>;
export const memoryListParamsSchema = z.strictObject({
  namespace: agentNamespaceSchema.optional(),
  prefix: z.string().max(200).optional(),
  call_id: memoryCallIdSchema,
});
export const memoryListReplySchema = z.strictObject({
  items: z.array(
    z.strictObject({ key: z.string(), label: z.array(labelAtomSchema), taint: taintSchema }),
  ),
});
export type MemoryListReply = z.infer<typeof memoryListReplySchema>;

/**
 * What a tool call came to, as the agent sees it (in `structuredContent`): the output, a
 * refusal it can reason about, a pause (the run waits for a person), or an error.
 */
/**
 * What a supervised worker is told the output carries (issue 22, docs/labels.md): the host's
 * own record decides, this is for the agent to know.
 */
const carriedLabels = {
  label: z.array(labelAtomSchema).optional(),
  taint: taintSchema.optional(),
};

export const toolCallOutcomeSchema = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('ok'), output: z.unknown(), ...carriedLabels }),
  z.strictObject({ status: z.literal('refused'), reason: z.string() }),
  z.strictObject({
    status: z.literal('paused'),
    reason: z.string(),
    approval_id: z.string(),
    missing_fields: z.array(z.string()).optional(),
  }),
  z.strictObject({
    status: z.literal('error'),
    code: z.string(),
    message: z.string(),
    ...carriedLabels,
  }),
]);
export type ToolCallOutcome = z.infer<typeof toolCallOutcomeSchema>;

/** Cap on the hand-off line: a token and a run id, far below it. */
export const WORKER_HANDOFF_MAX_BYTES = 4096;

/**
 * The first line the host writes to a worker's stdin, before any channel message: the run it
 * serves and that run's agent-session token (issue 18). A worker is started with neither — a
 * pre-started one waits for this line — so the token is never in its environment or argv.
 */
export const workerHandoffSchema = z.strictObject({
  ccos_handoff: z.strictObject({
    run_id: z.string().min(1).max(200),
    token: z.string().min(1).max(1024),
  }),
});
export type WorkerHandoff = z.infer<typeof workerHandoffSchema>['ccos_handoff'];
