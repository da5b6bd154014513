import { sql, type Kysely } from 'kysely';

/**
 * Memory items written through `ccos.memory` (governance — labels joining, retention,
 * audience — grows with the memory issue; every item already carries a label and its
 * source) and the secret store (values encrypted with AES-256-GCM under a key kept outside
 * the database, so the database file alone never reveals a secret).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table memory (
    namespace text not null,
    key text not null,
    value text not null,
    label text not null,
    source text not null,
    run_id text,
    step_id text,
    expires_at text,
    updated_at text not null,
    primary key (namespace, key)
  ) strict`.execute(db);
  await sql`create table secrets (
    name text primary key,
    ciphertext blob not null,
    iv blob not null,
    tag blob not null,
    created_at text not null,
    updated_at text not null
  ) strict`.execute(db);
}
