import { z } from 'zod';
import { budgetSchema } from './runs.ts';

/** A policy pack: the rules a run is held to. Its version is stamped on every chain entry. */
export const policyPackSchema = z.strictObject({
  id: z.string().min(1),
  version: z.string().min(1),
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
});
export type PolicyPack = z.infer<typeof policyPackSchema>;
