import type { PolicyPack } from '../../contracts/policy.ts';
import { AppError } from '../errors.ts';

/** What a worker may store, per segment and per run (issue 17 #11). */
export type SegmentQuotas = {
  /** Checkpoints one segment may write. */
  max_checkpoints: number;
  /** Checkpoints kept per run (the newest). */
  checkpoints_kept: number;
  /** `ccos/memory.put` calls one segment may make. */
  max_memory_puts: number;
  /** Bytes of keys and values the run's own memory namespace may hold. */
  run_memory_max_bytes: number;
};

/** Kept checkpoints when a pack names none: the newest and two before it, for diagnosis. */
const DEFAULT_CHECKPOINTS_KEPT = 3;
const DEFAULT_MEMORY_PUTS = 100;
const DEFAULT_RUN_MEMORY_BYTES = 1024 * 1024;

/**
 * The quotas a pack sets, with its defaults filled in. The checkpoint default follows the
 * segment's steps: a cooperative worker checkpoints after each step and once at the end, so
 * it never meets the quota; a worker that checkpoints in a loop does.
 */
export function segmentQuotasOf(pack: PolicyPack): SegmentQuotas {
  return {
    max_checkpoints: pack.segment_max_checkpoints ?? 2 * pack.segment_max_steps + 2,
    checkpoints_kept: pack.checkpoints_kept ?? DEFAULT_CHECKPOINTS_KEPT,
    max_memory_puts: pack.segment_max_memory_puts ?? DEFAULT_MEMORY_PUTS,
    run_memory_max_bytes: pack.run_memory_max_bytes ?? DEFAULT_RUN_MEMORY_BYTES,
  };
}

/** The refusal a worker gets, and the chain's `rule_id` for it. */
export function quotaExceeded(
  quota: 'checkpoints' | 'memory_puts' | 'memory_bytes',
  message: string,
  details: { limit: number; used: number },
): AppError {
  return new AppError('QUOTA_EXCEEDED', message, { quota, ...details });
}
