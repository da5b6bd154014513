import { sql, type Kysely } from 'kysely';

/**
 * When an onboarding `api_call` was sent and its result not yet recorded (issue 17 #9). Set
 * and committed before the remote call, cleared in the transaction that stores the result: a
 * row found with it set after a restart means the host died mid-call, so the call may have
 * had its effect (an account registered) and the host asks a person instead of calling again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table skill_onboarding add column call_started_at text`.execute(db);
}
