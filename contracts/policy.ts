import { z } from 'zod';
import { labelInputSchema } from './labels.ts';
import { sharedMemoryNamespaceSchema } from './memory.ts';
import { budgetSchema } from './runs.ts';

/** `scheme://host[:port]` as a URL's `origin` spells it (lower case, no path, no slash). */
const ORIGIN = /^https?:\/\/(\[[0-9a-f:]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:[0-9]{1,5})?$/;

export const llmRetryPolicySchema = z.strictObject({
  max_consecutive_failures: z.number().int().min(1).max(100),
  base_delay_ms: z
    .number()
    .int()
    .min(1)
    .max(10 * 60 * 1000),
  max_delay_ms: z
    .number()
    .int()
    .min(1)
    .max(24 * 60 * 60 * 1000),
});
export type LlmRetryPolicy = z.infer<typeof llmRetryPolicySchema>;

/** A policy pack: the rules a run is held to. Its version is stamped on every chain entry. */
export const policyPackSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits and ._- only'),
  /**
   * The author's version label. The host stamps `<version>+<content hash>` on entries, so an
   * edited file is a new version even when the label stays (main/policy/pack-version.ts).
   */
  version: z
    .string()
    .min(1)
    .max(50)
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and ._- only'),
  /** What the pack is for, shown by `ccos policies list`. */
  description: z.string().max(500).optional(),
  /** Limits for a run that asks for none; every run gets a finite budget. */
  default_budget: budgetSchema.omit({ deadline: true }),
  /** What happens when a budget is exceeded. */
  budget_on_exceed: z.enum(['hard_stop', 'approval']),
  /**
   * Context a missing parameter may be filled from when its schema names it with
   * `x-ccos-autofill`: `run.goal`, `run.id`, or `memory:<namespace>.<key>` (a trailing `*`
   * allows every key of a namespace). Anything else is ignored.
   */
  autofill_sources: z.array(z.string().min(1)),
  /** A segment: at most this many steps (LLM or tool calls) before the worker checkpoints and exits. */
  segment_max_steps: z.number().int().positive().max(1000),
  /** A segment: at most this long before the worker must have checkpointed and exited. */
  segment_max_ms: z
    .number()
    .int()
    .positive()
    .max(60 * 60 * 1000),
  /**
   * A worker that has not sent its first channel message this long after it was spawned is
   * killed (a retry). Start-up is measured apart from the segment, so a slow start on a busy
   * machine is never taken for a hang.
   */
  worker_start_timeout_ms: z
    .number()
    .int()
    .positive()
    .max(10 * 60 * 1000)
    .default(60_000),
  /**
   * A worker silent on its channel this long, with none of its requests in progress, is
   * taken for hung and killed (a retry). Time the host spends answering it does not count.
   */
  worker_silence_timeout_ms: z
    .number()
    .int()
    .positive()
    .max(60 * 60 * 1000)
    .default(120_000),
  /** Operations marked `approval: policy` need an approval when they declare any of these. */
  approval_capabilities: z.array(z.string().min(1)),
  /**
   * Origins (`https://host[:port]`, exactly) the agent's `ccos__skill_load` may fetch a skill
   * document from without first asking a person to allow that exact URL. Empty by default:
   * a fetch is itself an egress an injected agent could use to leak what it has seen.
   */
  skill_document_origins: z
    .array(
      z
        .string()
        .regex(ORIGIN, 'must be an origin only, in lower case, such as https://skills.example.com'),
    )
    .default([]),
  /**
   * Quotas on what a worker stores (issue 17 #11); each has a default when left out
   * (main/runs/segment-quotas.ts). Checkpoints a segment may write: the worker writes one
   * after each step, so this must exceed `segment_max_steps`.
   */
  segment_max_checkpoints: z.number().int().positive().max(100_000).optional(),
  /** Checkpoints kept per run; older ones are deleted as a new one is written. */
  checkpoints_kept: z.number().int().positive().max(1000).optional(),
  /** `ccos/memory.put` calls a segment may make. */
  segment_max_memory_puts: z.number().int().positive().max(100_000).optional(),
  /** Bytes (keys and JSON values) a run's own memory namespace may hold in all. */
  run_memory_max_bytes: z
    .number()
    .int()
    .positive()
    .max(1024 * 1024 * 1024)
    .optional(),
  /**
   * How the host retries an LLM call that failed transiently (rate limited, 5xx, network):
   * the run waits in `pending` for `base_delay_ms · 2^(n-1)` (or the provider's `retry-after`),
   * at most `max_delay_ms`, and fails after `max_consecutive_failures` failures in a row.
   * These waits never spend the run's retries, which count worker crashes. Default: 10
   * failures, 1 s base, 15 min cap.
   */
  llm_retry: llmRetryPolicySchema.optional(),
  /**
   * How long a pending approval of a run under this pack waits for a person. When it passes,
   * the approval expires as a refusal (never a grant) and the run is told. Absent: it waits
   * until decided or the run ends.
   */
  approval_timeout_ms: z
    .number()
    .int()
    .min(1000)
    .max(30 * 24 * 60 * 60 * 1000)
    .optional(),
  /**
   * How long an MCP `tools/call` that needs a person (an approval, or missing input from a
   * client that cannot elicit) waits for the decision before it answers "waiting for approval
   * apr_…: decide in CCOS"; a re-issued call picks the decision up. Default 60 s.
   */
  mcp_call_wait_ms: z
    .number()
    .int()
    .min(0)
    .max(10 * 60 * 1000)
    .optional(),
  /**
   * An MCP session with no request this long is closed and its run ends `done`
   * (`mcp_session_closed`): clients often never close one. Default 30 min.
   */
  mcp_idle_timeout_ms: z
    .number()
    .int()
    .min(1000)
    .max(24 * 60 * 60 * 1000)
    .optional(),
  // --- governed memory (issue 22) ---
  /**
   * Namespaces runs share (beyond each run's, goal's and session's own), each with the widest
   * audience an agent's write to it gets. An agent naming any other namespace is refused
   * (`memory.namespace`). Default: none.
   */
  memory_shared_namespaces: z.array(sharedMemoryNamespaceSchema).max(50).optional(),
  /**
   * The most restrictive label a run's agent may read back from memory; items above it read
   * as absent (`memory.label`). Default: every `pii.*` label and `internal.system` (an agent's
   * own writes are labelled as unknown personal data until taint tracking labels them).
   */
  memory_agent_readable: labelInputSchema.optional(),
  /** How long an agent's memory write lives when it asks for no lifetime. Default: no expiry. */
  memory_default_ttl_ms: z
    .number()
    .int()
    .min(1000)
    .max(366 * 24 * 60 * 60 * 1000)
    .optional(),
});
export type PolicyPack = z.infer<typeof policyPackSchema>;

/** Where a pack the host knows came from. */
export const policyPackSourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('builtin') }),
  z.strictObject({ kind: z.literal('file'), path: z.string() }),
  /** A version only runs created under it still use: the file changed or went away since. */
  z.strictObject({ kind: z.literal('pinned') }),
  /** Packs a program passed to the host directly (tests, embedders). */
  z.strictObject({ kind: z.literal('settings') }),
]);
export type PolicyPackSource = z.infer<typeof policyPackSourceSchema>;

/** A pack as `GET /v1/policies` lists it. */
export const policyPackSummarySchema = z.strictObject({
  id: z.string(),
  /** The stamped version: the author's label and a hash of the content. */
  version: z.string(),
  description: z.string().nullable(),
  source: policyPackSourceSchema,
});
export type PolicyPackSummary = z.infer<typeof policyPackSummarySchema>;

export const policyPackListSchema = z.strictObject({ packs: z.array(policyPackSummarySchema) });
export const policyPackDetailSchema = z.strictObject({
  summary: policyPackSummarySchema,
  pack: policyPackSchema,
});
