import { isTerminalState, type RunDriver, type RunState } from '../../contracts/runs.ts';
import { AppError } from '../errors.ts';

/**
 * The one transition table (ARCHITECTURE.md §4). `running` means a worker segment is
 * active; `pending` means the run waits for the supervisor to start one: after creation,
 * after a segment ends, after a crash that leaves retries, and after any resume trigger
 * (approval decision, external event, schedule fire, manual resume).
 */
export const TRANSITIONS: Readonly<Record<RunState, readonly RunState[]>> = {
  pending: ['running', 'cancelled', 'failed'],
  running: [
    'pending',
    'paused_approval',
    'paused_external_event',
    'paused_schedule',
    'done',
    'failed',
    'cancelled',
  ],
  paused_approval: ['pending', 'cancelled', 'failed'],
  paused_external_event: ['pending', 'cancelled', 'failed'],
  paused_schedule: ['pending', 'cancelled', 'failed'],
  done: [],
  failed: [],
  cancelled: [],
};

/** States a run cannot be in without a reason a person can read. */
export const STATES_NEEDING_REASON: readonly RunState[] = [
  'paused_approval',
  'paused_external_event',
  'paused_schedule',
  'failed',
];

/** `isTerminalState` for a parsed state. */
export function isTerminal(state: RunState): boolean {
  return isTerminalState(state);
}

/**
 * The table, plus one edge for an external run (an MCP session's): it has no worker to
 * resume it, so its session's end (a close, or the start after a crash) ends it `done` from
 * whatever unfinished state it is in. A worker run still reaches `done` only from `running`.
 */
export function isLegalTransition(
  from: RunState,
  to: RunState,
  driver: RunDriver = 'worker',
): boolean {
  if (driver === 'external' && to === 'done' && !isTerminal(from)) return true;
  return TRANSITIONS[from].includes(to);
}

/** Throws ILLEGAL_TRANSITION (or INVALID_INPUT for a missing reason) and changes nothing. */
export function assertTransition(
  from: RunState,
  to: RunState,
  reason: string | null,
  driver: RunDriver = 'worker',
): void {
  if (!isLegalTransition(from, to, driver)) {
    const why = isTerminal(from)
      ? `the run is already ${from}, which is final`
      : `${from} cannot go to ${to}`;
    throw new AppError('ILLEGAL_TRANSITION', `illegal run transition ${from} -> ${to}: ${why}`, {
      from,
      to,
    });
  }
  if (STATES_NEEDING_REASON.includes(to) && (reason === null || reason.trim() === '')) {
    throw new AppError('INVALID_INPUT', `a run going to ${to} needs a reason`, {
      fields: [{ path: 'reason', message: `required for ${to}` }],
    });
  }
}
