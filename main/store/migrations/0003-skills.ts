import { sql, type Kysely } from 'kysely';

/**
 * Installed skills, so they reload at start-up (ARCHITECTURE.md §3, §7). `manifest` is the
 * validated skill.json (JSON); `source` is the folder or .tgz it was installed from.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table skills (
    skill_id text primary key,
    version text not null,
    manifest text not null,
    source text not null,
    enabled integer not null check (enabled in (0, 1)),
    installed_at text not null
  ) strict`.execute(db);
}
