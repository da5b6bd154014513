import type { Kysely } from 'kysely';
import {
  scheduleCapsSchema,
  scheduleFireSchema,
  scheduleSchema,
  scheduleTargetSchema,
  scheduleTriggerSchema,
  type Schedule,
  type ScheduleFire,
} from '../../contracts/schedules.ts';
import { AppError } from '../errors.ts';
import type { Database, ScheduleFiresTable, SchedulesTable } from '../store/schema.ts';

/** A schedule as stored: the API view plus the shared session a `shared` template keeps. */
export type ScheduleRecord = Schedule & { session_id: string | null };

/** Reads one schedule (a deleted one is NOT_FOUND, like one that never existed). */
export async function readSchedule(db: Kysely<Database>, id: string): Promise<ScheduleRecord> {
  const row = await db.selectFrom('schedules').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined || row.state === 'deleted')
    throw new AppError('NOT_FOUND', `schedule ${id} not found`);
  return fromScheduleRow(row);
}

/** Database JSON columns are an edge: parsed with their schemas (STYLE.md §6). */
export function fromScheduleRow(row: SchedulesTable): ScheduleRecord {
  const schedule = scheduleSchema.parse({
    id: row.id,
    note: row.note,
    trigger: scheduleTriggerSchema.parse(JSON.parse(row.trigger)),
    target: scheduleTargetSchema.parse(JSON.parse(row.target)),
    overlap: row.overlap,
    catch_up: row.catch_up,
    catch_up_window_ms: row.catch_up_window_ms,
    jitter_ms: row.jitter_ms,
    start_at: row.start_at,
    end_at: row.end_at,
    caps: scheduleCapsSchema.parse(JSON.parse(row.caps)),
    state: row.state,
    state_reason: row.state_reason,
    owner_run_id: row.owner_run_id,
    next_fire_at: row.next_fire_at,
    next_due_at: row.next_due_at,
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
  });
  return { ...schedule, session_id: row.session_id };
}

export function toScheduleRow(s: ScheduleRecord): SchedulesTable {
  return {
    id: s.id,
    note: s.note,
    trigger: JSON.stringify(s.trigger),
    target: JSON.stringify(s.target),
    target_run_id: s.target.kind === 'resume' ? s.target.run_id : null,
    owner_run_id: s.owner_run_id,
    overlap: s.overlap,
    catch_up: s.catch_up,
    catch_up_window_ms: s.catch_up_window_ms,
    jitter_ms: s.jitter_ms,
    start_at: s.start_at,
    end_at: s.end_at,
    caps: JSON.stringify(s.caps),
    state: s.state,
    state_reason: s.state_reason,
    session_id: s.session_id,
    next_fire_at: s.next_fire_at,
    next_due_at: s.next_due_at,
    created_by: s.created_by,
    created_at: s.created_at,
    updated_at: s.updated_at,
  };
}

/** The API view: the internal session column stays inside. */
export function publicSchedule(s: ScheduleRecord): Schedule {
  const schedule: Partial<ScheduleRecord> = { ...s };
  delete schedule.session_id;
  return scheduleSchema.parse(schedule);
}

export function fromFireRow(row: ScheduleFiresTable): ScheduleFire {
  return scheduleFireSchema.parse(row);
}

/** The newest fires of a schedule, newest first. */
export async function recentFires(
  db: Kysely<Database>,
  scheduleId: string,
  limit: number,
): Promise<ScheduleFire[]> {
  const rows = await db
    .selectFrom('schedule_fires')
    .selectAll()
    .where('schedule_id', '=', scheduleId)
    .orderBy('claimed_at', 'desc')
    .orderBy('instant', 'desc')
    .limit(limit)
    .execute();
  return rows.map(fromFireRow);
}
