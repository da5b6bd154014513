import type { ScheduleFire } from '../../contracts/schedules.ts';
import type { ChainTx } from '../chain/causal-chain.ts';
import { isAppError } from '../errors.ts';
import { planCatchUp } from './catch-up.ts';
import { SCHEDULER_ACTOR, type FireEffects } from './fire-effects.ts';
import { firesAfter, type PlannedFire } from './next-fire.ts';
import { readSchedule } from './schedule-rows.ts';

/**
 * Instants handled in one transaction at most. A schedule that was down for long (an
 * every-second trigger over a week) is worked off in chunks, each instant still recorded,
 * so one transaction never holds the store for long.
 */
export const MAX_FIRES_PER_PASS = 1000;

export type AdvanceResult = {
  fires: ScheduleFire[];
  /** When the schedule is next due (ms), or null when it has nothing left to fire. */
  nextDue: number | null;
};

/**
 * One pass over one schedule, in the caller's transaction: every instant from its cursor
 * that is due by `nowMs` gets its decision from the catch-up policy — fire or missed — and
 * its row; the cursor moves past them; a schedule with no instant left ends. Idempotent: a
 * pass that finds nothing due changes nothing, and a fire row that exists is never redone.
 */
export async function advanceIn(
  tx: ChainTx,
  effects: FireEffects,
  scheduleId: string,
  nowMs: number,
  note: Record<string, unknown> = {},
): Promise<AdvanceResult> {
  const schedule = await readSchedule(tx.db, scheduleId).catch((e: unknown) => {
    if (isAppError(e, 'NOT_FOUND')) return undefined;
    throw e;
  });
  if (schedule === undefined || schedule.state !== 'active') return { fires: [], nextDue: null };
  if (schedule.next_fire_at === null || schedule.next_due_at === null)
    return { fires: [], nextDue: null };
  const cursorDue = Date.parse(schedule.next_due_at);
  if (cursorDue > nowMs) return { fires: [], nextDue: cursorDue };

  // The cursor and every instant after it that is due, up to one chunk.
  const pending: PlannedFire[] = [{ instant: Date.parse(schedule.next_fire_at), due: cursorDue }];
  let next: PlannedFire | null = null;
  const first = pending[0];
  if (first !== undefined) {
    for (const fire of firesAfter(schedule, first.instant)) {
      if (fire.due > nowMs || pending.length >= MAX_FIRES_PER_PASS) {
        next = fire;
        break;
      }
      pending.push(fire);
    }
  }
  const more = next !== null && next.due <= nowMs;
  const decisions = planCatchUp(
    pending,
    nowMs,
    schedule.catch_up,
    schedule.catch_up_window_ms,
    more,
  );
  const fires: ScheduleFire[] = [];
  let ended = false;
  for (const [i, fire] of pending.entries()) {
    const decision = decisions[i];
    if (decision === undefined) continue;
    const claim = {
      source: 'schedule' as const,
      instant: fire.instant,
      due: fire.due,
      at: nowMs,
      correlation_id: null,
      actor: SCHEDULER_ACTOR,
      note,
    };
    const result =
      decision.action === 'fire' && !ended
        ? await effects.fireIn(tx, schedule, claim)
        : await effects.missIn(
            tx,
            schedule,
            claim,
            decision.action === 'miss' ? decision.reason : 'run_ended: the schedule ended',
          );
    if (result !== undefined) fires.push(result);
    // A resume fire whose run has ended ends the schedule: the rest of the chunk is missed.
    if (!ended && schedule.target.kind === 'resume' && (await stateOf(tx, schedule.id)) === 'ended')
      ended = true;
  }
  if (ended) return { fires, nextDue: null };

  const updatedAt = new Date(nowMs).toISOString();
  if (next === null) {
    await effects.endIn(tx, schedule, endReason(schedule.trigger.kind, schedule.end_at), {
      actor: SCHEDULER_ACTOR,
      correlation_id: null,
    });
    return { fires, nextDue: null };
  }
  await tx.db
    .updateTable('schedules')
    .set({
      next_fire_at: new Date(next.instant).toISOString(),
      next_due_at: new Date(next.due).toISOString(),
      updated_at: updatedAt,
    })
    .where('id', '=', schedule.id)
    .execute();
  return { fires, nextDue: next.due };
}

async function stateOf(tx: ChainTx, scheduleId: string): Promise<string | undefined> {
  const row = await tx.db
    .selectFrom('schedules')
    .select('state')
    .where('id', '=', scheduleId)
    .executeTakeFirst();
  return row?.state;
}

function endReason(kind: string, endAt: string | null): string {
  if (kind === 'at') return 'done: its one instant has fired';
  return endAt === null
    ? 'done: its trigger names no later instant'
    : `done: end_at ${endAt} reached`;
}
