import { sql, type Kysely } from 'kysely';

/**
 * Standing approvals (issue 22). A grant is made from one decided approval and lets later
 * calls with the same `grant_key` (kind, operation, skill version and digest, permission
 * diff, taint gate) through, in its scope, until it is used up, expires or is revoked.
 * `approvals.grant_basis` keeps what a grant made from that approval would match: the
 * approval's row otherwise knows neither the skill version nor the digest the call ran under.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table grants (
    id text primary key,
    approval_id text not null unique references approvals(id),
    kind text not null,
    scope text not null check (scope in ('run', 'schedule')),
    run_id text not null references runs(id),
    schedule_id text,
    grant_key text not null,
    tool text not null,
    skill_id text not null,
    skill_version text not null,
    permission_diff text not null,
    taint_gated integer not null check (taint_gated in (0, 1)),
    max_uses integer check (max_uses is null or max_uses > 0),
    uses integer not null default 0 check (uses >= 0 and (max_uses is null or uses <= max_uses)),
    expires_at text not null,
    created_by text not null,
    created_at text not null,
    revoked_at text,
    revoked_by text,
    last_used_at text
  ) strict`.execute(db);
  await sql`create index grants_by_key on grants(grant_key, revoked_at, expires_at)`.execute(db);
  await sql`alter table approvals add column grant_basis text`.execute(db);
}
