import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorCode } from '../../contracts/errors.ts';

/**
 * HTTP status for each stable error code. A code missing here answers 400; a unit test
 * lists every code so a new one cannot slip through unmapped.
 */
export const ERROR_STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ILLEGAL_TRANSITION: 409,
  SESSION_BUSY: 409,
  IDEMPOTENCY_CONFLICT: 409,
  BUDGET_EXCEEDED: 409,
  APPROVAL_REQUIRED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  SKILL_INVALID: 422,
  MIGRATION_FAILED: 500,
  CHAIN_BROKEN: 500,
  INTERNAL: 500,
};

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return ERROR_STATUS[code] ?? 400;
}
