import { sql, type Kysely } from 'kysely';

/**
 * Why an installed skill could not be reloaded at start-up (docs/decisions.md "Skills"): the
 * skill is kept, disabled, with the error, so a transient failure on a busy machine costs a
 * retry, not the person's installation.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table skills add column load_error text`.execute(db);
}
