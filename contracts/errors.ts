import { z } from 'zod';

/**
 * Stable error codes. They cross processes, isolates and HTTP, so callers match on the
 * code (see `isAppError` in main/errors.ts), never on the message or on `instanceof`.
 */
export const errorCodeSchema = z.enum([
  'INVALID_INPUT',
  'NOT_FOUND',
  /** The path exists but not with this method; `Allow` lists the methods it has. */
  'METHOD_NOT_ALLOWED',
  /** A client (the CLI) could not reach the host: nothing listens at the URL it used. */
  'HOST_UNREACHABLE',
  'CONFLICT',
  'ILLEGAL_TRANSITION',
  'SESSION_BUSY',
  /** The run has ended (done, failed, cancelled): it takes no note or interrupt (issue 24). */
  'RUN_ENDED',
  /** The run is paused already: an interrupt has nothing to stop (issue 24). */
  'RUN_NOT_ACTIVE',
  'IDEMPOTENCY_CONFLICT',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'BUDGET_EXCEEDED',
  /** A per-segment or per-run storage quota of the policy pack is used up (issue 17 #11). */
  'QUOTA_EXCEEDED',
  'APPROVAL_REQUIRED',
  'MIGRATION_FAILED',
  /** The data dir is not the host's own (others can write it, or another user owns it). */
  'DATA_DIR_UNSAFE',
  'CHAIN_BROKEN',
  /** A policy pack file does not parse or validate; the message lists file:line:col field. */
  'POLICY_PACK_INVALID',
  'SKILL_INVALID',
  'INTERNAL',
  'SKILL_TIMEOUT',
  'SKILL_MEMORY',
  'SKILL_ERROR',
  'SKILL_BAD_OUTPUT',
  'SKILL_OUTPUT_TOO_LARGE',
  'SKILL_UNAVAILABLE',
  'SKILL_DISABLED',
  'SKILL_EGRESS_DENIED',
  'SKILL_PERMISSION_DENIED',
  /** A binding outside the capabilities the running operation declared (issue 17 #2). */
  'CAPABILITY_DENIED',
  'SKILL_HTTP_FAILED',
  /** The skill's onboarding is not done: an admin runs `ccos skills setup ID` first. */
  'SKILL_NEEDS_SETUP',
  'LLM_AUTH',
  'LLM_RATE_LIMITED',
  'LLM_REJECTED',
  'LLM_UNAVAILABLE',
  'LLM_BAD_RESPONSE',
  'LLM_ABORTED',
  'LLM_REPLAY_EXHAUSTED',
  'LLM_REPLAY_MISMATCH',
  /** The agent worker's segment is over: it must checkpoint and exit (ARCHITECTURE.md §4). */
  'SEGMENT_ENDED',
  /**
   * A tool call with this call id was started before and its outcome was never recorded
   * (the host died mid-call): it is not run again, since its side effect may have happened.
   */
  'CALL_OUTCOME_UNKNOWN',
  /**
   * A standing grant refused by policy (issue 22): budget and declassify approvals, a
   * taint-gated call the pack does not let be granted, a kind that is never standing.
   */
  'GRANT_NOT_ALLOWED',
  /**
   * Governed memory refused a write (a secret, an undeclared namespace, too wide an audience);
   * `details.rule_id` names the rule (issue 22).
   */
  'MEMORY_DENIED',
  // --- xform (issue 22) ---
  /** A transform's input is longer than the run's pack lets transforms read. */
  'TRANSFORM_INPUT_TOO_LARGE',
  /** A transform ran past the pack's time limit and was stopped (its thread terminated). */
  'TRANSFORM_TIME_LIMIT',
  /** A transform's thread died (out of its heap) or the host stopped under it. */
  'TRANSFORM_FAILED',
  // --- inbound connectors (issue 23): a connection's failures, by category ---
  /** The inbound request's proof failed (signature, timestamp, replay, token). */
  'CONNECTOR_AUTH',
  /** The connector's peer could not be reached. */
  'CONNECTOR_NETWORK',
  /** The connector's peer asked to slow down. */
  'CONNECTOR_RATE_LIMITED',
  /** The inbound payload or the connector's configuration is not valid. */
  'CONNECTOR_INVALID',
  // --- outbox (issue 23) ---
  /**
   * An outbound message refused before it was queued (personal or secret content, an unknown
   * channel); `details.rule_id` names the rule.
   */
  'OUTBOUND_DENIED',
  // --- outbox admin (issue 23) ---
  /** A retry or discard of a message that was delivered: nothing is left to do. */
  'OUTBOX_ALREADY_DELIVERED',
  /** A retry of a message that is not a dead letter (it is queued or in flight already). */
  'OUTBOX_NOT_DEAD',
  /** A discard of a message in flight: a host holds its lease and may be sending it now. */
  'OUTBOX_LEASED',
]);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

export const errorBodySchema = z.object({
  error: z.object({
    code: errorCodeSchema,
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
