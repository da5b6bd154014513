import { sql, type Kysely } from 'kysely';

/** Sessions, runs, goal queue, steps, checkpoints, approvals, causal chain and tokens. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`create table sessions (
      id text primary key,
      origin text not null check (origin in ('ui', 'api', 'connector')),
      state text not null check (state in ('active', 'suspended', 'expired')),
      created_at text not null
    ) strict`,
    sql`create table runs (
      id text primary key,
      session_id text not null references sessions(id),
      goal text not null,
      state text not null,
      state_reason text,
      budget text not null,
      usage text not null,
      policy_pack text not null,
      completion text,
      parent_run_id text references runs(id),
      created_by text not null,
      created_at text not null,
      updated_at text not null
    ) strict`,
    sql`create index runs_by_session on runs(session_id, state)`,
    sql`create index runs_by_state on runs(state)`,
    sql`create table goals (
      run_id text not null references runs(id),
      ordinal integer not null,
      text text not null,
      predicate text,
      state text not null check (state in ('open', 'met', 'abandoned')),
      primary key (run_id, ordinal)
    ) strict`,
    sql`create table steps (
      run_id text not null references runs(id),
      step_id text not null,
      segment integer not null,
      kind text not null,
      summary text not null,
      tokens integer not null default 0,
      started_at text not null,
      ended_at text,
      outcome text,
      primary key (run_id, step_id)
    ) strict`,
    sql`create table checkpoints (
      id integer primary key,
      run_id text not null references runs(id),
      segment integer not null,
      agent_state text not null,
      created_at text not null
    ) strict`,
    sql`create index checkpoints_by_run on checkpoints(run_id, id)`,
    sql`create table approvals (
      id text primary key,
      run_id text not null references runs(id),
      step_id text not null,
      kind text not null,
      scope text not null,
      justification text not null,
      permission_diff text not null,
      request text not null,
      state text not null,
      decided_by text,
      reason text,
      created_at text not null,
      decided_at text
    ) strict`,
    sql`create index approvals_by_state on approvals(state)`,
    sql`create table chain (
      seq integer primary key,
      event_id text not null unique,
      event_type text not null,
      timestamp text not null,
      session_id text,
      run_id text,
      step_id text not null,
      policy_pack_version text not null,
      capability_id text,
      capability_version text,
      rule_id text,
      correlation_id text,
      actor text not null,
      data text not null,
      prev_hash text not null,
      hash text not null
    ) strict`,
    sql`create index chain_by_run on chain(run_id, seq)`,
    sql`create index chain_by_type on chain(event_type, seq)`,
    sql`create index chain_by_time on chain(timestamp)`,
    sql`create table tokens (
      id text primary key,
      kind text not null check (kind in ('admin', 'connector', 'agent_session')),
      scopes text not null,
      hash text not null unique,
      label text not null,
      connector_id text,
      run_id text references runs(id),
      created_at text not null,
      expires_at text,
      revoked_at text
    ) strict`,
  ];
  for (const statement of statements) await statement.execute(db);
}
