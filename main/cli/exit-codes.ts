import type { ErrorCode } from '../../contracts/errors.ts';
import { isAppError } from '../errors.ts';

/** The `ccos` exit codes, listed in `ccos --help` (README "Using it"). */
export const EXIT = {
  OK: 0,
  /** What was checked is bad (a broken chain, a failed run) or the host refused the action. */
  FAILED: 1,
  /** The command line is wrong: unknown verb or flag, a value that is not a number… */
  USAGE: 2,
  /** No host answers at the URL (not running, stale `gateway.json`, wrong `--url`). */
  UNREACHABLE: 3,
  /** The token is missing, wrong, revoked, or may not do this. */
  NOT_ALLOWED: 4,
  /** A bug in ccos itself (reported with details). */
  INTERNAL: 70,
} as const;

export const EXIT_HELP = `Exit codes:
  0  ok
  1  what was checked is bad (e.g. a broken chain), or the host refused the action
  2  usage: an unknown verb or flag, or a value that is not valid
  3  the host is unreachable (not running, a stale gateway.json, a wrong --url)
  4  not allowed: the token is missing, wrong, revoked, or lacks the permission
 70  an unexpected error in ccos itself`;

/** Codes with an exit code of their own; every other refusal is FAILED. */
const EXIT_OF: Partial<Record<ErrorCode, number>> = {
  INVALID_INPUT: EXIT.USAGE,
  HOST_UNREACHABLE: EXIT.UNREACHABLE,
  UNAUTHORIZED: EXIT.NOT_ALLOWED,
  FORBIDDEN: EXIT.NOT_ALLOWED,
};

/** The exit code for an error a verb ended with. */
export function exitCodeOf(e: unknown): number {
  if (!isAppError(e)) return EXIT.INTERNAL;
  return EXIT_OF[e.code] ?? EXIT.FAILED;
}
