import { sql, type Kysely } from 'kysely';

/**
 * What makes a decided approval usable exactly once: `match_key` names the one call it
 * covers (run, tool and a hash of its parameters), `answer` holds the fields a person
 * supplied for a `missing_input` or `human_action` approval, and `consumed_at` marks the
 * execution that used it, so a replayed call cannot run twice.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table approvals add column match_key text`.execute(db);
  await sql`alter table approvals add column answer text`.execute(db);
  await sql`alter table approvals add column consumed_at text`.execute(db);
  await sql`create index approvals_by_match on approvals(run_id, match_key)`.execute(db);
}
