import { sql, type Kysely } from 'kysely';

/**
 * Connectors, inbound half (issue 23). `connector_adapters`: a connector's adapter and its
 * inbound rules (the secret itself is in the secret store, named here). `connector_connections`:
 * one per connector and channel, waiting for its `channel` approval before any message of it
 * is processed. `connector_messages`: every accepted message's envelope (pointers and
 * metadata, never content) in arrival order, unique per connector and external id so a second
 * delivery is a duplicate. `connector_inbound_seen`: signatures already accepted, kept for
 * the replay window, so a replayed request is refused.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table connector_adapters (
    connector_id text primary key,
    adapter text not null,
    version integer not null,
    config text not null,
    secret_name text,
    created_at text not null,
    updated_at text not null
  ) strict`.execute(db);
  await sql`create table connector_connections (
    id text primary key,
    connector_id text not null,
    channel_id text not null,
    state text not null check (state in ('pending_approval', 'approved', 'denied')),
    session_id text not null references sessions(id),
    approval_id text references approvals(id),
    held_run_id text references runs(id),
    created_at text not null,
    decided_at text,
    unique (connector_id, channel_id)
  ) strict`.execute(db);
  await sql`create index connector_connections_by_approval on connector_connections(approval_id)`.execute(
    db,
  );
  await sql`create table connector_messages (
    seq integer primary key,
    id text not null unique,
    connector_id text not null,
    connection_id text not null references connector_connections(id),
    external_id text not null,
    envelope text not null,
    state text not null check (state in ('waiting', 'routed', 'not_activated', 'refused')),
    run_id text references runs(id),
    received_at text not null,
    unique (connector_id, external_id)
  ) strict`.execute(db);
  await sql`create index connector_messages_waiting on connector_messages(connection_id, state)`.execute(
    db,
  );
  await sql`create table connector_inbound_seen (
    connector_id text not null,
    replay_key text not null,
    seen_at text not null,
    primary key (connector_id, replay_key)
  ) strict`.execute(db);
  await sql`create index connector_inbound_seen_by_time on connector_inbound_seen(seen_at)`.execute(
    db,
  );
}
