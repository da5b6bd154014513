import { sql, type Kysely } from 'kysely';

/**
 * An approval may expire: its policy pack sets `approval_timeout_ms`, and a pending approval
 * past `expires_at` closes as `expired` — a refusal, never a grant — and its run is told.
 * The index serves the one timer that finds the next approval to expire.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table approvals add column expires_at text`.execute(db);
  await sql`create index approvals_expiring on approvals(state, expires_at)`.execute(db);
}
