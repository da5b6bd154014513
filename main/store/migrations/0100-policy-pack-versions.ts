import { sql, type Kysely } from 'kysely';

/**
 * A run keeps the policy pack it was created under (issue 22, packs as files): the exact
 * content of every pack version a run was created with, and the version on the run. An edited
 * or deleted pack file changes what new runs get, never the rules of a run already made.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table policy_pack_versions (
    version text primary key,
    pack_id text not null,
    content text not null,
    created_at text not null
  ) strict`.execute(db);
  // Null for runs made before packs were versioned by content: they follow the pack's id.
  await sql`alter table runs add column policy_pack_version text`.execute(db);
}
