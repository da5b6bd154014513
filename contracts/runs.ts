import { z } from 'zod';
import { labelAtomSchema, taintSchema } from './labels.ts';

/** Run states (ARCHITECTURE.md §4). The transition table lives in main/runs/transitions.ts. */
export const runStateSchema = z.enum([
  'pending',
  'running',
  'paused_approval',
  'paused_external_event',
  'paused_schedule',
  'done',
  'failed',
  'cancelled',
]);
export type RunState = z.infer<typeof runStateSchema>;

export const TERMINAL_STATES = [
  'done',
  'failed',
  'cancelled',
] as const satisfies readonly RunState[];
export type TerminalState = (typeof TERMINAL_STATES)[number];
/**
 * Whether a state is one a run never leaves: the one check, for a parsed `RunState` as for a
 * value read from a chain entry's data (anything else is not terminal).
 */
export function isTerminalState(state: unknown): state is TerminalState {
  return (TERMINAL_STATES as readonly unknown[]).includes(state);
}
export const PAUSED_STATES = [
  'paused_approval',
  'paused_external_event',
  'paused_schedule',
] as const satisfies readonly RunState[];

/** Hard ceilings: no budget, from any source, may go above these. */
export const BUDGET_CEILING = {
  max_steps: 10_000,
  max_wall_clock_ms: 7 * 24 * 60 * 60 * 1000,
  max_tokens: 10_000_000,
  max_retries: 20,
} as const;

const positiveInt = (max: number) => z.number().int().positive().max(max);

/** A run's budget. Fixed at creation: nothing may change it afterwards. */
export const budgetSchema = z.strictObject({
  max_steps: positiveInt(BUDGET_CEILING.max_steps),
  max_wall_clock_ms: positiveInt(BUDGET_CEILING.max_wall_clock_ms),
  max_tokens: positiveInt(BUDGET_CEILING.max_tokens),
  max_retries: z.number().int().min(0).max(BUDGET_CEILING.max_retries),
  /** Absolute deadline (ISO 8601), optional. */
  deadline: z.iso.datetime({ offset: true }).optional(),
});
export type Budget = z.infer<typeof budgetSchema>;

/** The budget a caller asks for: every limit optional, missing ones take policy defaults. */
export const budgetRequestSchema = budgetSchema.partial();
export type BudgetRequest = z.infer<typeof budgetRequestSchema>;

/** The limits a connector record may cap (a deadline is the caller's own choice). */
export const cappedLimitSchema = z.enum([
  'max_steps',
  'max_wall_clock_ms',
  'max_tokens',
  'max_retries',
]);
export type CappedLimit = z.infer<typeof cappedLimitSchema>;

/** Upper bounds on a non-admin caller's run budget; a missing one leaves the pack's default. */
export const budgetCapsSchema = budgetSchema.omit({ deadline: true }).partial();
export type BudgetCaps = z.infer<typeof budgetCapsSchema>;

/**
 * One limit lowered at run creation, so the caller sees what it asked for and what it got:
 * a non-admin gets at most its connector's cap and the policy pack's default (issue 17 #13).
 */
export const budgetClampSchema = z.strictObject({
  limit: cappedLimitSchema,
  /** What the request asked for; null when it asked for nothing (the pack's default). */
  requested: z.number().int().nullable(),
  granted: z.number().int(),
  /** Which bound applied: the connector record's cap or the policy pack's default. */
  by: z.enum(['connector', 'policy_pack']),
});
export type BudgetClamp = z.infer<typeof budgetClampSchema>;

/** The budget dimensions that can run out. */
export const budgetKindSchema = z.enum(['steps', 'tokens', 'wall_clock', 'retries', 'deadline']);
export type BudgetKind = z.infer<typeof budgetKindSchema>;

/** Usage metered by the host, never reported by the agent. */
export const usageSchema = z.strictObject({
  steps: z.number().int().min(0),
  wall_clock_ms: z.number().int().min(0),
  tokens: z.number().int().min(0),
  /** True when some token figure was estimated because a provider reported none. */
  tokens_estimated: z.boolean(),
  retries: z.number().int().min(0),
});
export type Usage = z.infer<typeof usageSchema>;

export const EMPTY_USAGE: Usage = {
  steps: 0,
  wall_clock_ms: 0,
  tokens: 0,
  tokens_estimated: false,
  retries: 0,
};

/**
 * Completion predicate, fixed at creation and evaluated by the host over recorded state,
 * never code from the agent. Upstream forms: `never`, `capability_succeeded:<id>`.
 */
export const completionPredicateSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('never') }),
  z.strictObject({
    kind: z.literal('capability_succeeded'),
    capability_id: z.string().min(1).max(200),
  }),
  /**
   * A JSON Logic rule (jsonlogic.com) over `{ memory, steps }`, facts the host recorded: the
   * run's skill steps (`{ tool, skill_id, version, outcome, output }`) and the memory skills
   * wrote for the run (`memory.<skill_id>.<namespace>.<key>`). The agent's own scratch memory
   * is not a fact: it could satisfy its own goal.
   */
  z.strictObject({ kind: z.literal('json_logic'), rule: z.record(z.string(), z.unknown()) }),
]);
export type CompletionPredicate = z.infer<typeof completionPredicateSchema>;

export const goalStateSchema = z.enum(['open', 'met', 'abandoned']);
export type GoalState = z.infer<typeof goalStateSchema>;

export const goalSchema = z.strictObject({
  ordinal: z.number().int().min(0),
  text: z.string(),
  predicate: completionPredicateSchema.nullable(),
  state: goalStateSchema,
});
export type Goal = z.infer<typeof goalSchema>;

// Built from a string so the pattern holds no literal control characters.
const CONTROL_CHARACTERS = new RegExp('[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]');

/** Goal text: bounded, no control characters other than tab and newlines. */
export const goalTextSchema = z
  .string()
  .trim()
  .min(1, 'goal must not be empty')
  .max(10_000, 'goal must be at most 10000 characters')
  .refine((s) => !CONTROL_CHARACTERS.test(s), { error: 'goal must not contain control characters' })
  .refine((s) => s.isWellFormed(), {
    error: 'goal must be well-formed Unicode (no lone surrogates)',
  });

/**
 * Who drives a run: an agent `worker` the supervisor starts, or an `external` client (an MCP
 * session, issue 25) whose tool calls are the run's steps; no worker is ever started for it.
 */
export const runDriverSchema = z.enum(['worker', 'external']);
export type RunDriver = z.infer<typeof runDriverSchema>;

export const runSchema = z.strictObject({
  id: z.string(),
  session_id: z.string(),
  goal: z.string(),
  state: runStateSchema,
  /** Why the run is paused, failed or cancelled; null when running normally. */
  state_reason: z.string().nullable(),
  budget: budgetSchema,
  /** Limits lowered when the run was created (empty for an admin's run or none lowered). */
  budget_clamps: z.array(budgetClampSchema),
  usage: usageSchema,
  policy_pack: z.string(),
  /**
   * The pack version the run was created under (`<label>+<content hash>`): its rules hold for
   * the run's whole life, whatever later happens to the pack's file. Null for runs made
   * before packs were versioned by content.
   */
  policy_pack_version: z.string().nullable(),
  completion: completionPredicateSchema.nullable(),
  parent_run_id: z.string().nullable(),
  /**
   * What a run waits for: the external event type (`paused_external_event`), the instant or
   * `schedule:<id>` (`paused_schedule`), or `llm_provider` for a `pending` run on a host with
   * no LLM provider (nothing will start it); null otherwise.
   */
  waiting_for: z.string().nullable(),
  /**
   * A `pending` run is not started before this instant (ISO 8601): it waits out a backoff
   * after a transient LLM failure; `state_reason` says which. Null otherwise.
   */
  not_before: z.string().nullable(),
  driver: runDriverSchema,
  /** The actor that created the run (`admin`, `connector:<id>`, …); scopes who may see it. */
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Run = z.infer<typeof runSchema>;

export const createRunInputSchema = z.strictObject({
  goal: goalTextSchema,
  /** Existing session to run in; a new session is created when absent. */
  session_id: z.string().min(1).max(100).optional(),
  budget: budgetRequestSchema.optional(),
  completion: completionPredicateSchema.optional(),
  subgoals: z
    .array(
      z.strictObject({ text: goalTextSchema, predicate: completionPredicateSchema.optional() }),
    )
    .max(100)
    .optional(),
  policy_pack: z.string().min(1).max(100).optional(),
});
export type CreateRunInput = z.infer<typeof createRunInputSchema>;

/** What caused a resume (each resume is a chain entry naming its trigger). */
export const resumeTriggerSchema = z.enum([
  'manual',
  'external_event',
  'approval_decision',
  'schedule_fire',
  'recovery',
]);

/** An external event for a run (`POST /v1/runs/{id}/events`). */
export const runEventInputSchema = z.strictObject({
  type: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[a-z0-9][a-z0-9._:-]*$/, 'lowercase letters, digits and ._:- only'),
  /** Kept as received; the agent is told the event arrived, never shown raw external data. */
  payload: z.record(z.string(), z.unknown()).optional(),
});
export type RunEventInput = z.infer<typeof runEventInputSchema>;
export type ResumeTrigger = z.infer<typeof resumeTriggerSchema>;

export const stepKindSchema = z.enum(['llm', 'skill', 'approval', 'event', 'checkpoint']);

/** One step of a run as recorded (summary already redacted). */
export const stepSchema = z.strictObject({
  run_id: z.string(),
  step_id: z.string(),
  segment: z.number().int().min(0),
  kind: stepKindSchema,
  summary: z.string(),
  tokens: z.number().int().min(0),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  outcome: z.string().nullable(),
  /**
   * What the step produced carries (issue 22, docs/labels.md): a tool's output, or the join
   * of an LLM call's context window. Null when unknown (counted as the most restrictive label,
   * untrusted).
   */
  output_label: z.array(labelAtomSchema).nullable(),
  output_taint: taintSchema.nullable(),
  /** Where the output came from, e.g. `skill feed@1.0.0 op read`. */
  output_source: z.string().nullable(),
});
export type Step = z.infer<typeof stepSchema>;

/** A run's most recent failure (`GET /v1/runs/{id}` `last_failure`). */
export const runFailureSchema = z.strictObject({
  /** `segment`: a worker fault; `llm`: a failed LLM call. */
  kind: z.enum(['segment', 'llm']),
  at: z.string(),
  segment: z.number().int().min(0).nullable(),
  reason: z.string(),
});
export type RunFailure = z.infer<typeof runFailureSchema>;
/**
 * Continuing an ended run (`POST /v1/runs/{id}/continue`): a new run with the same goals,
 * started from the ended run's last checkpoint, under a new budget. The original stays final.
 */
export const continueRunInputSchema = z.strictObject({
  /** The new run's limits; any left out come from the policy pack, as for a new run. */
  budget: budgetRequestSchema.optional(),
  /** Another pack than the original's. */
  policy_pack: z.string().min(1).max(100).optional(),
  reason: z.string().min(1).max(2000).optional(),
});
export type ContinueRunInput = z.infer<typeof continueRunInputSchema>;
