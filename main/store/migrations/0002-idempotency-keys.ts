import { sql, type Kysely } from 'kysely';

/**
 * `Idempotency-Key` records for run creation: the same key from the same principal
 * returns the same run; the key with another body is a conflict.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table idempotency_keys (
    principal text not null,
    key text not null,
    request_hash text not null,
    run_id text not null references runs(id),
    created_at text not null,
    primary key (principal, key)
  ) strict`.execute(db);
}
