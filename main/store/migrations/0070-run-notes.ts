import { sql, type Kysely } from 'kysely';

/**
 * Steering a live run (issue 24). `run_notes`: a person's notes to a run's agent, waiting
 * until a checkpoint of the worker holds them (`delivered_at`, `delivered_segment`).
 * `run_interrupts`: a person's request that the run stop at its next step boundary, applied
 * (`applied_at`) by the first step that meets it. Kept in the database, not in memory, so a
 * note or an interrupt outlives the worker and the host it was sent to.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table run_notes (
    id text primary key,
    run_id text not null references runs(id),
    text text not null,
    created_by text not null,
    created_at text not null,
    delivered_at text,
    delivered_segment integer
  ) strict`.execute(db);
  await sql`create index run_notes_waiting on run_notes(run_id, delivered_at)`.execute(db);
  await sql`create table run_interrupts (
    id text primary key,
    run_id text not null references runs(id),
    reason text,
    created_by text not null,
    created_at text not null,
    applied_at text
  ) strict`.execute(db);
  await sql`create index run_interrupts_waiting on run_interrupts(run_id, applied_at)`.execute(db);
}
