import { sql, type Kysely } from 'kysely';

/**
 * Per-skill onboarding state (ARCHITECTURE.md §7; docs/declarative-skills.md "Onboarding").
 * `completed` is the JSON list of finished steps with their outcome, written before the next
 * step starts, so a restart never repeats a step whose side effect already happened.
 * `pending_secret` names the encrypted temporary secret a `secret_write` approval will move
 * (a name, never a value). `step_started_at` keeps a `wait_for` deadline across restarts.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table skill_onboarding (
    skill_id text primary key,
    state text not null,
    step integer not null,
    completed text not null,
    pending_approval_id text,
    pending_secret text,
    run_id text references runs(id),
    reason text,
    step_started_at text,
    updated_at text not null
  ) strict`.execute(db);
}
