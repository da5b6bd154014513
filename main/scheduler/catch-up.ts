import type { CatchUpPolicy } from '../../contracts/schedules.ts';
import type { PlannedFire } from './next-fire.ts';

/**
 * A fire processed within this long of its due time is on time under every policy: timer
 * lateness on a busy machine, not a missed fire. Later than that it is a catch-up.
 */
export const ON_TIME_MS = 60_000;

export type CatchUpDecision =
  | { action: 'fire' }
  | { action: 'miss'; code: 'catch_up_none' | 'superseded' | 'outside_window'; reason: string };

/**
 * What to do with the fires that are due now (`pending`, oldest first, all due ≤ `nowMs`),
 * by the schedule's catch-up policy (docs/scheduler.md):
 * - `none`: only the newest fires, and only if it is on time; every other one is missed.
 * - `latest`: only the newest fires, if it is within the catch-up window.
 * - `all`: each fires if it is within the window.
 * `more` says that further fires are due beyond `pending` (a long gap handled in chunks), so
 * none of these is the newest. Never a silent skip: every instant gets a decision.
 */
export function planCatchUp(
  pending: readonly PlannedFire[],
  nowMs: number,
  policy: CatchUpPolicy,
  windowMs: number,
  more: boolean,
): CatchUpDecision[] {
  const horizon = policy === 'none' ? ON_TIME_MS : Math.max(windowMs, ON_TIME_MS);
  return pending.map((fire, i) => {
    const newest = !more && i === pending.length - 1;
    const inHorizon = nowMs - fire.due <= horizon;
    if (policy === 'all' || newest) {
      if (inHorizon) return { action: 'fire' };
      return policy === 'none'
        ? miss('catch_up_none', 'due while the host was not running, and catch_up is none')
        : miss('outside_window', `more than ${horizon} ms late, outside the catch-up window`);
    }
    return policy === 'none'
      ? miss('catch_up_none', 'due while the host was not running, and catch_up is none')
      : miss('superseded', 'a later instant fired instead (catch_up latest)');
  });
}

function miss(code: Extract<CatchUpDecision, { action: 'miss' }>['code'], reason: string) {
  return { action: 'miss' as const, code, reason: `${code}: ${reason}` };
}
