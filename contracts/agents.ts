import { z } from 'zod';

/**
 * The host-wide switch and caps over every agent (`ccos agents …`, `/v1/agents`): a person
 * can stop a fleet in one command and bound what all runs together may use.
 */
export const agentsStatusSchema = z.strictObject({
  /** No segment is granted while paused; running segments end at their next step. */
  paused: z.boolean(),
  paused_reason: z.string().nullable(),
  paused_by: z.string().nullable(),
  paused_at: z.string().nullable(),
  /** Segments running at once across the host; null: only the host's start-up setting applies. */
  max_concurrent_runs: z.number().int().positive().nullable(),
  /** LLM tokens all runs together may use per UTC day; null: no daily cap. */
  max_tokens_per_day: z.number().int().positive().nullable(),
  /** Tokens charged since `day_started_at`. */
  tokens_today: z.number().int().min(0),
  day_started_at: z.string(),
  day_resets_at: z.string(),
  /** Runs with a segment in progress now. */
  running: z.number().int().min(0),
});
export type AgentsStatus = z.infer<typeof agentsStatusSchema>;

export const pauseAgentsInputSchema = z.strictObject({
  /** Shown on every waiting run and recorded on the chain. */
  reason: z.string().trim().min(1).max(500).optional(),
});
export type PauseAgentsInput = z.infer<typeof pauseAgentsInputSchema>;

/** Omitted fields stay as they are; null removes a cap. */
export const agentLimitsInputSchema = z.strictObject({
  max_concurrent_runs: z.number().int().min(1).max(1000).nullable().optional(),
  max_tokens_per_day: z.number().int().min(1).max(1_000_000_000_000).nullable().optional(),
});
export type AgentLimitsInput = z.infer<typeof agentLimitsInputSchema>;
