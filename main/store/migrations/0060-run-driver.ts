import { sql, type Kysely } from 'kysely';

/**
 * Who drives a run (issue 25): `worker`, an agent worker the supervisor starts segment by
 * segment, or `external`, a client outside the host (an MCP session) whose calls are the
 * run's steps. The supervisor starts workers only for `worker` runs; start-up recovery ends an
 * `external` run instead of resuming it, since the session that drove it is gone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table runs add column driver text not null default 'worker'`.execute(db);
}
