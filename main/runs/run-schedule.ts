import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.ts';

/**
 * The schedule a run belongs to, or null: the schedule whose fire started it, else the
 * newest schedule that resumes it. Read from the scheduler's tables (runs sit below the
 * scheduler, so they do not call it).
 */
export async function scheduleOfRunIn(
  db: Transaction<Database>,
  runId: string,
): Promise<string | null> {
  const started = await db
    .selectFrom('schedule_fires')
    .select('schedule_id')
    .where('run_id', '=', runId)
    .where('outcome', '=', 'started')
    .orderBy('claimed_at', 'asc')
    .executeTakeFirst();
  if (started !== undefined) return started.schedule_id;
  const resumer = await db
    .selectFrom('schedules')
    .select('id')
    .where('target_run_id', '=', runId)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return resumer?.id ?? null;
}
