import type { z } from 'zod';
import { errorCodeSchema, type ErrorCode } from '../contracts/errors.ts';

const ERROR_CODES: ReadonlySet<string> = new Set(errorCodeSchema.options);

/** An expected failure with a stable code. Bugs use `BugError` instead. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
}

/**
 * Recognises an app error by its code, also when it crossed a process or an isolate as data.
 * Only the product's own codes count: a driver's error (`SQLITE_CONSTRAINT`, `ECONNRESET`)
 * is a fault, not an expected failure, whatever its shape.
 */
export function isAppError(e: unknown, code?: ErrorCode): e is AppError {
  if (typeof e !== 'object' || e === null) return false;
  const c = (e as { code?: unknown }).code;
  if (typeof c !== 'string' || !(e instanceof Error || 'message' in e)) return false;
  return code === undefined ? ERROR_CODES.has(c) : c === code;
}

/** A broken invariant inside the host: never expected, never shown to callers in detail. */
export class BugError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BugError';
  }
}

export function assertNever(value: never): never {
  throw new BugError(`unexpected value: ${JSON.stringify(value)}`);
}

/** Turns zod issues into the `path: message` list every INVALID_INPUT error carries. */
export function invalidInput(
  what: string,
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): AppError {
  const fields = issues.map((i) => ({
    path: i.path.map(String).join('.') || '(root)',
    message: i.message,
  }));
  const list = fields.map((f) => `${f.path}: ${f.message}`).join('; ');
  return new AppError('INVALID_INPUT', `invalid ${what}: ${list}`, { fields });
}

/**
 * zod reports every unknown key of an object as one issue on the object itself; callers
 * are told which field to remove, so each key becomes its own field path.
 */
export function perUnknownField(
  issue: z.core.$ZodIssue,
): { path: PropertyKey[]; message: string }[] {
  if (issue.code !== 'unrecognized_keys') return [issue];
  return issue.keys.map((key) => ({ path: [...issue.path, key], message: 'unknown field' }));
}
