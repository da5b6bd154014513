import { sql, type Kysely } from 'kysely';

/**
 * The outbox (issue 23). A row is written in the transaction of the step that produced it;
 * delivery claims it with a lease in the row itself (`lease_owner`, `lease_expires_at`) so
 * several hosts on one database need no lock of their own: a claim is one UPDATE that only
 * succeeds for a row that is due and whose lease (if any) has expired.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table outbox (
    id text primary key,
    idempotency_key text not null unique,
    connector_id text not null,
    channel_id text not null,
    run_id text references runs(id) on delete set null,
    step_id text,
    session_id text,
    content text not null,
    content_sha256 text not null,
    label text not null,
    state text not null check (state in ('queued', 'in_flight', 'delivered', 'dead')),
    attempts integer not null default 0,
    max_attempts integer not null,
    next_attempt_at text not null,
    lease_owner text,
    lease_expires_at text,
    last_error_category text,
    last_error text,
    created_at text not null,
    updated_at text not null
  ) strict`.execute(db);
  // The dispatcher's two questions: what is due now, and when is the next one due.
  await sql`create index outbox_due on outbox (state, next_attempt_at)`.execute(db);
  await sql`create index outbox_lease on outbox (state, lease_expires_at)`.execute(db);
  await sql`create table outbox_attempts (
    outbox_id text not null references outbox(id) on delete cascade,
    attempt integer not null,
    lease_owner text not null,
    started_at text not null,
    ended_at text,
    status integer,
    latency_ms integer,
    outcome text not null check (outcome in ('in_flight', 'delivered', 'retry', 'dead')),
    category text,
    message text,
    primary key (outbox_id, attempt)
  ) strict`.execute(db);
}
