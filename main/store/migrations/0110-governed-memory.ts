import { sql, type Kysely } from 'kysely';

/**
 * Governed memory (issue 22): every item gets an id (the admin API's handle), a taint, the
 * session it was written in, and an audience — who may read it — bound to a run, session,
 * schedule or connector id. One key may hold an item per audience, so a write from one
 * session can never overwrite (or be read through) another session's item of the same key:
 * the primary key becomes the id and `(namespace, key, audience, audience_id)` is unique.
 *
 * Existing items keep exactly the readers they had: a run's own namespace (`run:<id>`) is
 * bound to that run; skills' and the person's namespaces admit whoever the namespace admits
 * (`namespace`). Their integrity was never recorded, so they count as untrusted.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists memory_by_run`.execute(db);
  await sql`alter table memory rename to memory_before_0110`.execute(db);
  await sql`create table memory (
    id text primary key,
    namespace text not null,
    key text not null,
    value text not null,
    label text not null,
    taint text not null check (taint in ('trusted', 'untrusted')),
    source text not null,
    run_id text,
    step_id text,
    session_id text,
    audience text not null
      check (audience in ('run', 'session', 'schedule', 'connector', 'ui_only', 'namespace')),
    audience_id text not null,
    expires_at text,
    created_at text not null,
    updated_at text not null,
    unique (namespace, key, audience, audience_id)
  ) strict`.execute(db);
  await sql`
    insert into memory (id, namespace, key, value, label, taint, source, run_id, step_id,
                        session_id, audience, audience_id, expires_at, created_at, updated_at)
    select 'mem_' || lower(hex(randomblob(12))), m.namespace, m.key, m.value, m.label,
           'untrusted', m.source, m.run_id, m.step_id, r.session_id,
           case when m.namespace like 'run:%' then 'run' else 'namespace' end,
           case when m.namespace like 'run:%' then substr(m.namespace, 5) else '' end,
           m.expires_at, m.updated_at, m.updated_at
    from memory_before_0110 m
    left join runs r on r.id = m.run_id
  `.execute(db);
  await sql`drop table memory_before_0110`.execute(db);
  await sql`create index memory_by_run on memory (run_id) where run_id is not null`.execute(db);
  await sql`create index memory_by_session on memory (session_id) where session_id is not null`.execute(
    db,
  );
}
