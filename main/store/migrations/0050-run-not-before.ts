import { sql, type Kysely } from 'kysely';

/**
 * A pending run may carry a time before which the supervisor does not start it: after a
 * transient LLM failure (rate limit, 5xx, network) it waits out its backoff — the
 * provider's `retry-after` when it gave one — visibly in `pending`, without holding a worker.
 * The index serves the supervisor's pick: pending runs whose wait is over, oldest first.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table runs add column not_before text`.execute(db);
  await sql`create index runs_startable on runs(state, not_before)`.execute(db);
}
