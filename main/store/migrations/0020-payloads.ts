import { sql, type Kysely } from 'kysely';

/**
 * Payloads (issue 17 #15): tool inputs and outcomes, LLM prompts and answers, redacted.
 * The chain keeps each one's digest, size and label; the content lives here, where a purge
 * can remove it (`content` becomes null, `purged_at` says when) while the row and its
 * digest stay to explain the chain entry that names it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table payloads (
    id integer primary key,
    run_id text not null references runs(id),
    step_id text not null,
    kind text not null,
    subject text not null,
    digest text not null,
    bytes integer not null,
    label text not null,
    content text,
    created_at text not null,
    purged_at text
  ) strict`.execute(db);
  await sql`create index payloads_by_step on payloads(run_id, step_id, kind)`.execute(db);
}
