import { sql, type Kysely } from 'kysely';

/**
 * Skill memory is scoped per skill (issue 17 #5): a skill's namespace `notes` is stored as
 * `skill:<skill_id>:notes`, with the source `skill:<skill_id>@<version>`. Items written
 * before (global `notes`, source `skill:notes`) are copied to every installed skill that
 * declares the namespace — exactly the skills that could read them until now, so nothing
 * becomes visible to a skill that could not see it — and the global rows are removed.
 * Items no installed skill declares are removed with them (no skill could reach them).
 * Completion facts read the memory a run's skills wrote by `run_id`: indexed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    insert into memory (namespace, key, value, label, source, run_id, step_id, expires_at, updated_at)
    select 'skill:' || s.skill_id || ':' || m.namespace, m.key, m.value, m.label,
           'skill:' || s.skill_id || '@' || s.version, m.run_id, m.step_id, m.expires_at,
           m.updated_at
    from memory m
    join skills s
      on exists (
        select 1 from json_each(s.manifest, '$.permissions.memory_namespaces') d
        where d.value = m.namespace
      )
    where m.source = 'skill:' || m.namespace and instr(m.namespace, ':') = 0
    on conflict (namespace, key) do nothing
  `.execute(db);
  await sql`
    delete from memory where source = 'skill:' || namespace and instr(namespace, ':') = 0
  `.execute(db);
  await sql`create index memory_by_run on memory (run_id) where run_id is not null`.execute(db);
}
