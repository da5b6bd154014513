import { sql, type Kysely } from 'kysely';

/**
 * Connector records (issue 17 #13): which policy packs a connector's runs may use and at most
 * which budget, so a connector token no longer chooses its own. `runs.budget_clamps` keeps
 * the limits that were lowered at creation (JSON; null: none), shown with the run.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table connectors (
    id text primary key,
    allowed_packs text not null,
    budget_caps text not null,
    created_at text not null,
    updated_at text not null
  ) strict`.execute(db);
  await sql`alter table runs add column budget_clamps text`.execute(db);
}
