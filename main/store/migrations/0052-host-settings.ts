import { sql, type Kysely } from 'kysely';

/**
 * Host-wide settings a person changes while the host runs (`ccos agents pause|resume|limits`):
 * the kill switch and the caps over all runs. Kept in the database so they survive a restart
 * — a paused fleet must not start again because the host did.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table host_settings (
    key text primary key,
    value text not null,
    updated_at text not null,
    updated_by text not null
  ) strict`.execute(db);
}
