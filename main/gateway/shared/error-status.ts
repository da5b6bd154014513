import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorCode } from '../../../contracts/errors.ts';

/**
 * HTTP status for each stable error code. A unit test checks that every code of the
 * contract has its own entry, so a new code cannot reach a client with a guessed status.
 */
export const ERROR_STATUS: Readonly<Partial<Record<ErrorCode, ContentfulStatusCode>>> = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  // Raised by clients, never by the gateway; a proxy in front of it would say the same.
  HOST_UNREACHABLE: 503,
  CONFLICT: 409,
  ILLEGAL_TRANSITION: 409,
  SESSION_BUSY: 409,
  RUN_ENDED: 409,
  RUN_NOT_ACTIVE: 409,
  IDEMPOTENCY_CONFLICT: 409,
  BUDGET_EXCEEDED: 409,
  // A quota is a limit the pack sets for what a run stores; like a spent budget, a conflict.
  QUOTA_EXCEEDED: 409,
  APPROVAL_REQUIRED: 409,
  // The run's segment is over; a new one is granted by the supervisor, not by retrying.
  SEGMENT_ENDED: 409,
  // At most once: the call may have run; the caller checks before it asks again.
  CALL_OUTCOME_UNKNOWN: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  SKILL_INVALID: 422,
  // A skill is refused by policy: the caller may not do this.
  SKILL_EGRESS_DENIED: 403,
  SKILL_PERMISSION_DENIED: 403,
  MEMORY_DENIED: 403,
  // --- outbox (issue 23) ---
  OUTBOUND_DENIED: 403,
  CAPABILITY_DENIED: 403,
  // A standing grant the policy never allows: the person may still approve the one call.
  GRANT_NOT_ALLOWED: 403,
  // A disabled skill is a state the caller can change (enable it), like other conflicts.
  SKILL_DISABLED: 409,
  // Like a disabled skill: a state an admin changes (by running its setup), not a bad request.
  SKILL_NEEDS_SETUP: 409,
  // The skill ran and failed: the host is fine, the code it fronts is not (as a proxy says).
  SKILL_ERROR: 502,
  SKILL_MEMORY: 502,
  SKILL_BAD_OUTPUT: 502,
  SKILL_OUTPUT_TOO_LARGE: 502,
  SKILL_HTTP_FAILED: 502,
  SKILL_UNAVAILABLE: 503,
  SKILL_TIMEOUT: 504,
  // The LLM provider behind the gateway failed or refused: an upstream problem.
  LLM_AUTH: 502,
  LLM_REJECTED: 502,
  LLM_BAD_RESPONSE: 502,
  LLM_REPLAY_EXHAUSTED: 502,
  LLM_REPLAY_MISMATCH: 502,
  LLM_UNAVAILABLE: 503,
  LLM_RATE_LIMITED: 503,
  LLM_ABORTED: 503,
  MIGRATION_FAILED: 500,
  // Raised at start-up, before the gateway listens; never an answer in practice.
  DATA_DIR_UNSAFE: 500,
  CHAIN_BROKEN: 500,
  POLICY_PACK_INVALID: 400,
  INTERNAL: 500,
  // --- xform (issue 22) ---
  // The pack caps what a transform reads, as the gateway caps a body.
  TRANSFORM_INPUT_TOO_LARGE: 413,
  TRANSFORM_TIME_LIMIT: 504,
  TRANSFORM_FAILED: 502,
  // --- inbound connectors (issue 23) ---
  CONNECTOR_AUTH: 401,
  CONNECTOR_NETWORK: 502,
  CONNECTOR_RATE_LIMITED: 429,
  CONNECTOR_INVALID: 400,
  // --- outbox admin (issue 23): the message's state forbids the action, as other conflicts ---
  OUTBOX_ALREADY_DELIVERED: 409,
  OUTBOX_NOT_DEAD: 409,
  OUTBOX_LEASED: 409,
};

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  // Unmapped is a host bug (the unit test fails first): not the caller's fault, so not a 4xx.
  return ERROR_STATUS[code] ?? 500;
}
