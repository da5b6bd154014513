import { sql, type Kysely } from 'kysely';

/**
 * Labels and taint through the pipeline (issue 22): a step records the label and taint of
 * what it produced (a tool's output, an LLM answer's context window) and the source it names;
 * each tool call an LLM answer asked for keeps that answer's window, so the gate that decides
 * the call knows what the arguments may derive from. Null on steps written before: read as
 * unknown (the most restrictive label, untrusted).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // JSON array of label atoms (`[]` is public); `trusted` | `untrusted`.
  await sql`alter table steps add column output_label text`.execute(db);
  await sql`alter table steps add column output_taint text`.execute(db);
  // What a person reads as the value's origin, e.g. `skill feed@1.0.0 op read`.
  await sql`alter table steps add column output_source text`.execute(db);
  await sql`create table call_windows (
    run_id text not null references runs(id) on delete cascade,
    call_id text not null,
    llm_step_id text not null,
    label text not null,
    taint text not null,
    sources text not null,
    arguments_hash text not null,
    argument_sources text not null,
    primary key (run_id, call_id)
  ) strict`.execute(db);
}
