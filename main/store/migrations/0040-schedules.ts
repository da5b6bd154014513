import { sql, type Kysely } from 'kysely';

/**
 * Schedules and their fires (issue 21, docs/scheduler.md). A fire is a row keyed by
 * (schedule, source, instant): claiming it is an insert that only one transaction can win,
 * committed together with its effect (a run created or resumed) and its chain entry, so a
 * fire happens exactly once across crashes — and across hosts sharing one database later,
 * with no in-memory lock deciding anything. `next_fire_at` is the cursor: the first instant
 * of the trigger without a fire row, advanced in the same transaction as the claim.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`create table schedules (
      id text primary key,
      note text,
      trigger text not null,
      target text not null,
      target_run_id text references runs(id),
      owner_run_id text references runs(id),
      overlap text not null check (overlap in ('skip', 'buffer_one', 'allow')),
      catch_up text not null check (catch_up in ('none', 'latest', 'all')),
      catch_up_window_ms integer not null check (catch_up_window_ms > 0),
      jitter_ms integer not null check (jitter_ms >= 0),
      start_at text,
      end_at text,
      caps text not null,
      state text not null check (state in ('active', 'paused', 'ended', 'deleted')),
      state_reason text,
      session_id text references sessions(id),
      next_fire_at text,
      next_due_at text,
      created_by text not null,
      created_at text not null,
      updated_at text not null
    ) strict`,
    sql`create index schedules_by_due on schedules(state, next_due_at)`,
    sql`create index schedules_by_target_run on schedules(target_run_id)`,
    sql`create index schedules_by_owner_run on schedules(owner_run_id)`,
    sql`create table schedule_fires (
      schedule_id text not null references schedules(id),
      source text not null check (source in ('schedule', 'manual')),
      instant text not null,
      due_at text not null,
      claimed_at text not null,
      outcome text not null
        check (outcome in ('started', 'resumed', 'buffered', 'skipped', 'refused', 'missed')),
      reason text,
      run_id text references runs(id),
      settled_at text,
      primary key (schedule_id, source, instant)
    ) strict`,
    sql`create index schedule_fires_by_claim on schedule_fires(schedule_id, claimed_at)`,
    sql`create index schedule_fires_by_outcome on schedule_fires(schedule_id, outcome)`,
    sql`create index schedule_fires_by_run on schedule_fires(run_id)`,
  ];
  for (const statement of statements) await statement.execute(db);
}
