import { sql, type Kysely } from 'kysely';

/**
 * The principal that created a session (issue 17 #22). Access used to be inferred from the
 * runs in a session, so a connector could not start the first run of a session it had just
 * created. Existing sessions take the actor of their `session.created` chain entry (who made
 * them), else that of their first run, else `host`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table sessions add column owner text`.execute(db);
  await sql`update sessions set owner = coalesce(
    (select actor from chain
      where chain.event_type = 'session.created' and chain.session_id = sessions.id
      order by seq limit 1),
    (select created_by from runs where runs.session_id = sessions.id
      order by created_at limit 1),
    'host')`.execute(db);
  await sql`create index sessions_by_owner on sessions(owner, created_at)`.execute(db);
}
