import { sql, type Kysely } from 'kysely';

/**
 * Quarantine and transforms (issue 22). `quarantine`: raw inbound content as sealed blobs
 * (AES-256-GCM, a nonce per row, the pointer as associated data), found by a random
 * pointer; the sender is kept only as a keyed hash (purge per sender), never in the clear.
 * `transform_outputs`: what a transform derived from a blob, sealed the same way, with the
 * digest of its exact bytes and the digest the redaction verifier last passed or failed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table quarantine (
    pointer text primary key,
    session_id text not null references sessions(id),
    sender_key text not null,
    channel_id text not null,
    label text not null,
    nonce blob not null,
    tag blob not null,
    ciphertext blob not null,
    created_at text not null,
    expires_at text not null
  ) strict`.execute(db);
  await sql`create index quarantine_by_session on quarantine(session_id)`.execute(db);
  await sql`create index quarantine_by_sender on quarantine(sender_key)`.execute(db);
  await sql`create index quarantine_by_expiry on quarantine(expires_at)`.execute(db);
  await sql`create table transform_outputs (
    id text primary key,
    run_id text not null references runs(id),
    session_id text not null,
    source_ref text not null,
    capability_id text not null,
    capability_version text not null,
    label text not null,
    digest text not null,
    nonce blob not null,
    tag blob not null,
    ciphertext blob not null,
    verified_digest text,
    verification text,
    created_at text not null
  ) strict`.execute(db);
  await sql`create index transform_outputs_by_source on transform_outputs(source_ref)`.execute(db);
}
