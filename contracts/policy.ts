import { z } from 'zod';
import { labelAtomSchema, labelInputSchema, taintSchema } from './labels.ts';
import { sharedMemoryNamespaceSchema } from './memory.ts';
import { quarantinePolicySchema } from './quarantine.ts';
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

// --- pack rules: allow/deny, label rules, egress exceptions, activation, retention (issue 22: rules) ---

/**
 * A rule id as `policy.decision` entries name it: dotted and lower case (`<area>.<rule>`,
 * e.g. `egress.no_paste_sites`). Stable: audits and approvals refer to it across versions.
 */
export const ruleIdSchema = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/, 'a dotted lower-case id such as area.rule_name');

/** Where labelled data may go: the kinds of destination label rules speak of. */
export const destinationKindSchema = z.enum([
  /** An LLM provider not on loopback. */
  'remote_llm',
  /** An LLM provider on loopback: the data stays on this machine. */
  'local_llm',
  /** A request a skill (or the host for it) sends to the network. */
  'network_egress',
  /** A message a connector sends to a person or channel outside the host. */
  'outbound_connector',
  /** A governed memory item. */
  'memory',
]);
export type DestinationKind = z.infer<typeof destinationKindSchema>;

/** A name a rule matches: exactly, or every name starting with what precedes a final `*`. */
const namePatternSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^*]*\*?$/, 'a name, or a prefix ending in one *');

/** What a static rule matches; every field given must hold (an absent field matches anything). */
export const ruleMatchSchema = z
  .strictObject({
    /** A tool name, `<skill_id>__<operation_id>` (e.g. `notes__put`, `notes__*`). */
    operation: namePatternSchema.optional(),
    skill: namePatternSchema.optional(),
    /** A capability the operation or skill declares (`net.http`, `memory.write`, …). */
    capability: namePatternSchema.optional(),
    /** An egress origin, `https://host[:port]`, as a URL's origin spells it. */
    origin: namePatternSchema.optional(),
    /** A label of the data (deny: data at or above it; allow: data at or below it). */
    label: labelInputSchema.optional(),
    namespace: namePatternSchema.optional(),
    destination: destinationKindSchema.optional(),
  })
  .refine((m) => Object.keys(m).length > 0, 'a rule must match at least one field');
export type RuleMatch = z.infer<typeof ruleMatchSchema>;

/** A static allow/deny rule (docs/policy-packs.md: constitution first, then deny wins). */
export const policyRuleSchema = z.strictObject({
  rule_id: ruleIdSchema,
  effect: z.enum(['allow', 'deny']),
  match: ruleMatchSchema,
  /** Why the rule exists, shown with every decision it makes. */
  reason: z.string().max(300).optional(),
});
export type PolicyRule = z.infer<typeof policyRuleSchema>;

/** Which labels may go to which kind of destination (no rule for a label: denied). */
export const labelRuleSchema = z.strictObject({
  rule_id: ruleIdSchema,
  label: labelInputSchema,
  destination: destinationKindSchema,
  effect: z.enum(['allow', 'deny']),
});
export type LabelRule = z.infer<typeof labelRuleSchema>;

/** A label a pack lets go to a destination only with a person's approval, each time. */
export const egressExceptionSchema = z.strictObject({
  rule_id: ruleIdSchema,
  label: labelInputSchema,
  destination: destinationKindSchema,
  /**
   * Must be true: an exception without approval would be an allow rule by another name, and
   * the constitution refuses it (`constitution.no_side_effect_before_approval`) at load.
   */
  needs_approval: z.boolean(),
  reason: z.string().max(300).optional(),
});
export type EgressException = z.infer<typeof egressExceptionSchema>;

/** Which inbound messages may wake an agent (connectors apply them; no rule allows: none do). */
export const activationRuleSchema = z.strictObject({
  rule_id: ruleIdSchema,
  effect: z.enum(['allow', 'deny']),
  match: z
    .strictObject({
      /** `direct`: a one-to-one message; `mention`: the agent is mentioned; `keyword`: one of `keywords` appears. */
      trigger: z.enum(['direct', 'mention', 'keyword']).optional(),
      /** Words matched whole and case-insensitively; required with `trigger: keyword`. */
      keywords: z.array(z.string().min(1).max(100)).min(1).max(100).optional(),
      /** The senders it applies to (connector sender ids): the allowlist. */
      senders: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
      /** The channels it applies to (connector channel ids). */
      channels: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
    })
    .refine((m) => Object.keys(m).length > 0, 'a rule must match at least one field')
    .refine(
      (m) => m.trigger !== 'keyword' || m.keywords !== undefined,
      'trigger keyword needs keywords',
    ),
});
export type ActivationRule = z.infer<typeof activationRuleSchema>;

/** An inbound message as activation rules see it (the connectors issue fills it in). */
export const activationMessageSchema = z.strictObject({
  direct: z.boolean(),
  mentions_agent: z.boolean(),
  text: z.string(),
  sender: z.string(),
  channel: z.string(),
});
export type ActivationMessage = z.infer<typeof activationMessageSchema>;

/**
 * What `decide` answers (main/policy/decide.ts): allowed, denied, or allowed only once a
 * person approves (`ask`); always with the rule that decided and why.
 */
export const policyDecisionSchema = z.strictObject({
  effect: z.enum(['allow', 'deny', 'ask']),
  rule_id: z.string(),
  reason: z.string(),
});
export type PolicyDecision = z.infer<typeof policyDecisionSchema>;

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long things are kept; absent fields take the host's defaults (docs/policy-packs.md). */
export const retentionSchema = z.strictObject({
  /** Raw inbound content in quarantine. */
  quarantine_ttl_ms: z
    .number()
    .int()
    .positive()
    .max(365 * DAY_MS)
    .optional(),
  /** A memory item written without its own expiry. */
  memory_default_expiry_ms: z
    .number()
    .int()
    .positive()
    .max(10 * 365 * DAY_MS)
    .optional(),
  /** A run's payloads (tool inputs and outputs) after the run ended. */
  payload_retention_ms: z
    .number()
    .int()
    .positive()
    .max(10 * 365 * DAY_MS)
    .optional(),
});

/**
 * The rule fields of a pack, merged into `policyPackSchema`. All optional without defaults:
 * a default would change the content hash of every stored pack version, and the host would
 * no longer recognise the versions its runs were created under. Absent means empty, except
 * `label_rules`: a pack without them is held to the contract's (main/policy/contract-rules.ts).
 */
const packRuleFields = {
  /** Static allow/deny rules over operations, skills, capabilities, origins, labels, namespaces. */
  rules: z.array(policyRuleSchema).max(500).optional(),
  /** What a request no rule matches gets (default `allow`); `deny` makes allow rules a whitelist. */
  rules_default: z.enum(['allow', 'deny']).optional(),
  /** Which labels may go to which destination kind; a label no rule allows is denied. */
  label_rules: z.array(labelRuleSchema).max(200).optional(),
  egress_exceptions: z.array(egressExceptionSchema).max(100).optional(),
  activation_rules: z.array(activationRuleSchema).max(200).optional(),
  retention: retentionSchema.optional(),
};
// --- end of pack rules (issue 22: rules) ---

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
  // --- MCP clients under labels and taint (issue 22, mcptaint) ---
  /**
   * What the host assumes of an MCP client's context (its model's prompt, which the host never
   * sees): `untrusted` (the default) — it may have read a web page or a mail that steers it,
   * so the taint gate asks a person before its effectful calls — or `trusted`, for a client
   * whose only inputs are its person's and what this host gave it (whose taint still counts).
   */
  mcp_client_taint: taintSchema.optional(),
  /**
   * The label atoms an MCP client may be shown in a tool result (the pack's exception, as
   * `llm_remote_labels` is for remote providers). Left out, only `public` results: one carrying
   * any other atom answers `LABEL_WITHHELD` with `[withheld: <label> from <source>]`.
   * `secret.token` cannot be listed; `internal.system` can.
   */
  mcp_client_labels: z.array(labelAtomSchema.exclude(['secret.token'])).optional(),
  // --- standing approvals (issue 22) ---
  /**
   * Whether a person may approve a call the taint gate asked about (its approval's request
   * says `taint_gate: true`) as a standing grant. Default false: each call steered by
   * untrusted data is its own decision.
   */
  grants_allow_taint_gated: z.boolean().optional(),
  /** The longest a standing grant may last; a grant asked for longer is cut to this. Default 30 days. */
  grants_max_ms: z
    .number()
    .int()
    .min(1000)
    .max(365 * 24 * 60 * 60 * 1000)
    .optional(),
  ...packRuleFields,
  // --- quarantine and transforms (issue 22) ---
  /**
   * Retention of quarantined raw content (a TTL per channel) and the redaction verifier's
   * limits; every field defaults (main/quarantine/quarantine-policy.ts).
   */
  quarantine: quarantinePolicySchema.optional(),
  // --- labels and taint through the pipeline (issue 22, taint) ---
  /**
   * LLM exposure: the label atoms a remote LLM provider may be sent (the pack's exception).
   * Left out, none of `pii.*` and never `secret.token`: a value carrying a withheld atom
   * reaches a remote provider only as `[withheld: <label> from <source>]`. `secret.token`
   * cannot be listed. A local provider is sent everything (docs/labels.md).
   */
  llm_remote_labels: z.array(labelAtomSchema.exclude(['secret.token'])).optional(),
  /**
   * The taint gate: a call to an operation with effects made from an LLM answer whose context
   * window held untrusted data asks a person first (`approval`, the default), or not (`off`).
   */
  taint_gate: z.enum(['approval', 'off']).optional(),
  /**
   * Egress by label: a call to an operation that can reach the network, made from a window
   * holding `pii.*` data, is refused (`deny`, the default) or asks a person (`approval`, the
   * pack's egress exception); a window holding `secret.token` is refused unless `off`, which
   * skips the rule (for packs whose runs read no one's personal data).
   */
  egress_label: z.enum(['deny', 'approval', 'off']).optional(),
  // --- end labels and taint ---
  // --- transform tools offering (issue 22, taint22) ---
  /**
   * When a run's agent is offered `ccos__transform_*`, `ccos__transform_verify` and
   * `ccos__declassify`: only while its session holds quarantined content or transform
   * outputs (`when_quarantined`, the default: a run with nothing to transform spends no
   * prompt tokens on them), or `always`.
   */
  transform_tools: z.enum(['when_quarantined', 'always']).optional(),
  // --- end transform tools offering ---
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
  // --- outbox (issue 23) ---
  /**
   * Attempts at delivering one outbound message of a run under this pack before it is
   * dead-lettered (transient failures only; a permanent one dead-letters at once). Default 8.
   */
  outbox_max_attempts: z.number().int().min(1).max(50).optional(),
  // --- outbox wiring (issue 23) ---
  /**
   * Channels a run under this pack may send to besides its own session's (`egress.channel`):
   * by default a run answers only the connector channel whose message created or resumed it.
   */
  outbound_channels: z
    .array(
      z.strictObject({
        connector_id: z
          .string()
          .regex(/^[a-z0-9][a-z0-9_-]*$/)
          .max(64),
        channel_id: z.string().min(1).max(200),
      }),
    )
    .max(100)
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
