import { describe, expect, it } from 'vitest';
import { errorCodeSchema } from '../../../contracts/errors.ts';
import { ERROR_STATUS, statusOf } from '../../../main/gateway/shared/error-status.ts';

describe('ERROR_STATUS', () => {
  it.each(errorCodeSchema.options)('%s has its own explicit HTTP status', (code) => {
    expect(Object.hasOwn(ERROR_STATUS, code)).toBe(true);
    const status = statusOf(code);
    expect(Number.isInteger(status)).toBe(true);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
  });

  it('lists no code the contract does not know', () => {
    expect(Object.keys(ERROR_STATUS).sort()).toEqual([...errorCodeSchema.options].sort());
  });

  it('keeps the statuses clients rely on', () => {
    expect(statusOf('INVALID_INPUT')).toBe(400);
    expect(statusOf('UNAUTHORIZED')).toBe(401);
    expect(statusOf('FORBIDDEN')).toBe(403);
    expect(statusOf('NOT_FOUND')).toBe(404);
    for (const code of [
      'CONFLICT',
      'ILLEGAL_TRANSITION',
      'SESSION_BUSY',
      'IDEMPOTENCY_CONFLICT',
    ] as const)
      expect(statusOf(code)).toBe(409);
    expect(statusOf('PAYLOAD_TOO_LARGE')).toBe(413);
    expect(statusOf('UNSUPPORTED_MEDIA_TYPE')).toBe(415);
    expect(statusOf('INTERNAL')).toBe(500);
  });
});
