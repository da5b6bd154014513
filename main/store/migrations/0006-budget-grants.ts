import { sql, type Kysely } from 'kysely';

/**
 * Budget extensions. A run's budget is immutable; a person's approved extension is a
 * separate, audited grant added on top (ARCHITECTURE.md §4), so the original stays visible.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table budget_grants (
    id integer primary key,
    run_id text not null references runs(id),
    kind text not null check (kind in ('steps', 'tokens', 'wall_clock', 'retries')),
    amount integer not null check (amount > 0),
    approval_id text not null references approvals(id),
    granted_by text not null,
    created_at text not null
  ) strict`.execute(db);
  await sql`create index budget_grants_by_run on budget_grants(run_id)`.execute(db);
}
