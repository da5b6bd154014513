import { sql, type Kysely } from 'kysely';

/**
 * External events (ARCHITECTURE.md §3, §4): what arrived for a run, and what a run paused
 * in `paused_external_event` is waiting for, so `POST /v1/runs/{id}/events` resumes it only
 * on the event type it named — a structured field, never parsed back from a reason text.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table runs add column waiting_for text`.execute(db);
  await sql`create table events (
    id text primary key,
    run_id text not null references runs(id),
    type text not null,
    payload text not null,
    source text not null,
    received_at text not null
  ) strict`.execute(db);
  await sql`create index events_by_run on events(run_id, received_at)`.execute(db);
}
