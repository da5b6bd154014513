import type { Generated, Kysely } from 'kysely';

/**
 * Row types of every table, as stored. JSON columns are TEXT here and are parsed with
 * their zod schema when read (STYLE.md §6: database JSON columns are an edge).
 */
export type SessionsTable = {
  id: string;
  origin: string;
  state: string;
  created_at: string;
  /** The principal (actor) that created it; it may start runs in it (migration 0030). */
  owner: string | null;
};

export type RunsTable = {
  id: string;
  session_id: string;
  goal: string;
  state: string;
  state_reason: string | null;
  budget: string;
  usage: string;
  policy_pack: string;
  completion: string | null;
  parent_run_id: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  /** The external event type a `paused_external_event` run waits for (migration 0008). */
  waiting_for: string | null;
  /** JSON array of the limits lowered at creation; null when none were (migration 0031). */
  budget_clamps: string | null;
  /** A pending run is not started before this instant: an LLM backoff (migration 0050). */
  not_before: string | null;
  /** The stamped version of the pack the run was created under; null before 0100. */
  policy_pack_version: string | null;
  /** `worker` or `external` (an MCP session drives it; migration 0060). */
  driver: string;
};

/** The content of each pack version a run was created under (migration 0100). */
export type PolicyPackVersionsTable = {
  version: string;
  pack_id: string;
  /** The pack as JSON (contracts/policy.ts), version field included. */
  content: string;
  created_at: string;
};

/** What a connector's runs may use (migration 0031); limits are JSON. */
export type ConnectorsTable = {
  id: string;
  /** JSON array of policy pack ids. */
  allowed_packs: string;
  /** JSON object of budget caps. */
  budget_caps: string;
  created_at: string;
  updated_at: string;
};

export type GoalsTable = {
  run_id: string;
  ordinal: number;
  text: string;
  predicate: string | null;
  state: string;
};

export type StepsTable = {
  run_id: string;
  step_id: string;
  segment: number;
  kind: string;
  summary: string;
  tokens: number;
  started_at: string;
  ended_at: string | null;
  outcome: string | null;
  /** Migration 0140: JSON label atoms of what the step produced; null is unknown. */
  output_label: Generated<string | null>;
  /** Migration 0140: `trusted` | `untrusted`; null is unknown (untrusted). */
  output_taint: Generated<string | null>;
  /** Migration 0140: the source a person reads, e.g. `skill feed@1.0.0 op read`. */
  output_source: Generated<string | null>;
};

/** Migration 0140: the context window of the LLM answer that asked for a tool call. */
export type CallWindowsTable = {
  run_id: string;
  call_id: string;
  llm_step_id: string;
  /** JSON label atoms of the window's join. */
  label: string;
  taint: string;
  /** JSON `[{name, step_id, label, taint}]`: what the window held. */
  sources: string;
  /** `hashCall` of the call as the answer asked for it. */
  arguments_hash: string;
  /** JSON `{argument: [source name, …]}`: the untrusted sources holding each argument literally. */
  argument_sources: string;
};

/** Migration 0020: what a run's calls carried; the chain holds only digests of it. */
export type PayloadsTable = {
  id: Generated<number>;
  run_id: string;
  step_id: string;
  kind: string;
  subject: string;
  digest: string;
  bytes: number;
  label: string;
  /** JSON text; null once purged. */
  content: string | null;
  created_at: string;
  purged_at: string | null;
};

export type CheckpointsTable = {
  id: Generated<number>;
  run_id: string;
  segment: number;
  agent_state: string;
  created_at: string;
};

export type ApprovalsTable = {
  id: string;
  run_id: string;
  step_id: string;
  kind: string;
  scope: string;
  justification: string;
  permission_diff: string;
  request: string;
  state: string;
  decided_by: string | null;
  reason: string | null;
  created_at: string;
  decided_at: string | null;
  match_key: string | null;
  answer: string | null;
  consumed_at: string | null;
  /** A pending approval past this instant expires as a refusal (migration 0051). */
  expires_at: string | null;
  /** JSON `GrantBasis`: what a standing grant made from it would match; null when none can be (migration 0130). */
  grant_basis: string | null;
};

/** A standing approval (migration 0130); see `main/runs/grant-service.ts`. */
export type GrantsTable = {
  id: string;
  approval_id: string;
  kind: string;
  scope: string;
  run_id: string;
  schedule_id: string | null;
  grant_key: string;
  tool: string;
  skill_id: string;
  skill_version: string;
  /** JSON array of permission changes, as the approval showed them. */
  permission_diff: string;
  taint_gated: number;
  max_uses: number | null;
  uses: number;
  expires_at: string;
  created_by: string;
  created_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
  last_used_at: string | null;
};

/** Host-wide settings by key, values JSON (migration 0052). */
export type HostSettingsTable = {
  key: string;
  value: string;
  updated_at: string;
  updated_by: string;
};

export type RunNotesTable = {
  id: string;
  run_id: string;
  text: string;
  created_by: string;
  created_at: string;
  delivered_at: string | null;
  delivered_segment: number | null;
};

export type RunInterruptsTable = {
  id: string;
  run_id: string;
  reason: string | null;
  created_by: string;
  created_at: string;
  applied_at: string | null;
};

export type ChainTable = {
  seq: number;
  event_id: string;
  event_type: string;
  timestamp: string;
  session_id: string | null;
  run_id: string | null;
  step_id: string;
  policy_pack_version: string;
  capability_id: string | null;
  capability_version: string | null;
  rule_id: string | null;
  correlation_id: string | null;
  actor: string;
  data: string;
  prev_hash: string;
  hash: string;
};

export type TokensTable = {
  id: string;
  kind: string;
  scopes: string;
  hash: string;
  label: string;
  connector_id: string | null;
  run_id: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
};

export type IdempotencyKeysTable = {
  principal: string;
  key: string;
  request_hash: string;
  run_id: string;
  created_at: string;
};

export type SkillsTable = {
  skill_id: string;
  version: string;
  manifest: string;
  source: string;
  enabled: number;
  installed_at: string;
  /** JSON `{code, message, at}` when the last reload failed; null when loaded. */
  load_error: string | null;
};

/** Governed memory items (migration 0110; parsed by `main/memory/memory-record.ts`). */
export type MemoryTable = {
  id: string;
  namespace: string;
  key: string;
  /** JSON. */
  value: string;
  /** `public` or label atoms joined with `+`. */
  label: string;
  taint: string;
  source: string;
  run_id: string | null;
  step_id: string | null;
  session_id: string | null;
  audience: string;
  /** The run, session, schedule or connector id; `''` for `namespace` and `ui_only`. */
  audience_id: string;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
};

export type SecretsTable = {
  name: string;
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  created_at: string;
  updated_at: string;
};

export type BudgetGrantsTable = {
  id: Generated<number>;
  run_id: string;
  kind: string;
  amount: number;
  approval_id: string;
  granted_by: string;
  created_at: string;
};

export type EventsTable = {
  id: string;
  run_id: string;
  type: string;
  payload: string;
  source: string;
  received_at: string;
};

/** A skill's onboarding progress (migration 0007). */
export type SkillOnboardingTable = {
  skill_id: string;
  state: string;
  step: number;
  /** JSON `[{id, outcome}]` of finished steps, in order. */
  completed: string;
  pending_approval_id: string | null;
  /** JSON `{name, temp}`: the secret a pending `secret_write` approval would write. */
  pending_secret: string | null;
  run_id: string | null;
  reason: string | null;
  step_started_at: string | null;
  /** An `api_call` sent whose result is not recorded yet (migration 0011). */
  call_started_at: string | null;
  updated_at: string;
};

/** A schedule (migration 0040); JSON columns parsed by `main/scheduler/schedule-rows.ts`. */
export type SchedulesTable = {
  id: string;
  note: string | null;
  /** JSON `ScheduleTrigger`. */
  trigger: string;
  /** JSON `ScheduleTarget`. */
  target: string;
  /** The run a `resume` target wakes, for lookups by run. */
  target_run_id: string | null;
  /** The run a follow-up belongs to; the schedule ends with it. */
  owner_run_id: string | null;
  overlap: string;
  catch_up: string;
  catch_up_window_ms: number;
  jitter_ms: number;
  start_at: string | null;
  end_at: string | null;
  /** JSON `ScheduleCaps`. */
  caps: string;
  state: string;
  state_reason: string | null;
  /** The session a `shared` template's runs use, once the first one made it. */
  session_id: string | null;
  next_fire_at: string | null;
  next_due_at: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
};

/** One fire of a schedule, claimed once per (schedule, source, instant) (migration 0040). */
export type ScheduleFiresTable = {
  schedule_id: string;
  source: string;
  instant: string;
  due_at: string;
  claimed_at: string;
  outcome: string;
  reason: string | null;
  run_id: string | null;
  settled_at: string | null;
};

/** Migration 0120: sealed raw inbound content, found by a random pointer. */
export type QuarantineTable = {
  pointer: string;
  session_id: string;
  /** Keyed hash of the sender id (main/quarantine/quarantine-key.ts): purge per sender. */
  sender_key: string;
  channel_id: string;
  /** JSON array of label atoms (`[]` is public). */
  label: string;
  /** Migration 0170: `trusted` only for the person's own (local chat) messages. */
  taint: Generated<'trusted' | 'untrusted'>;
  nonce: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
  created_at: string;
  expires_at: string;
};

/** Migration 0120: a transform's output, sealed, with the digest of its exact bytes. */
export type TransformOutputsTable = {
  id: string;
  run_id: string;
  session_id: string;
  source_ref: string;
  capability_id: string;
  capability_version: string;
  label: string;
  digest: string;
  nonce: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
  /** The output digest the redaction verifier last ran on; null before any run. */
  verified_digest: string | null;
  /** JSON `{ok, issues}` of that run. */
  verification: string | null;
  created_at: string;
};

// --- inbound connectors (issue 23) ---
/** The inbound connector tables of migration 0150 (see its comment for what each holds). */
export type ConnectorAdaptersTable = {
  connector_id: string;
  adapter: string;
  version: number;
  /** JSON: inbound_auth, activation, template, max_payload_bytes. */
  config: string;
  secret_name: string | null;
  created_at: string;
  updated_at: string;
};

// --- outbox (issue 23) ---
/** Migration 0160: one outbound message and its delivery state, leased in the row. */
export type OutboxTable = {
  id: string;
  idempotency_key: string;
  connector_id: string;
  channel_id: string;
  run_id: string | null;
  step_id: string | null;
  session_id: string | null;
  /** JSON `OutboundContent`, redacted before it was stored. */
  content: string;
  content_sha256: string;
  /** JSON array of label atoms. */
  label: string;
  state: string;
  attempts: number;
  max_attempts: number;
  next_attempt_at: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  last_error_category: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
};

export type ConnectorConnectionsTable = {
  id: string;
  connector_id: string;
  channel_id: string;
  state: 'pending_approval' | 'approved' | 'denied';
  session_id: string;
  approval_id: string | null;
  /** The parked run the channel approval hangs on (approvals belong to runs). */
  held_run_id: string | null;
  created_at: string;
  decided_at: string | null;
};

export type ConnectorMessagesTable = {
  /** Arrival order: waiting messages are processed in it once their channel is approved. */
  seq: Generated<number>;
  id: string;
  connector_id: string;
  connection_id: string;
  external_id: string;
  /** JSON MessageEnvelope: metadata and quarantine pointers only. */
  envelope: string;
  state: 'waiting' | 'routed' | 'not_activated' | 'refused';
  run_id: string | null;
  received_at: string;
};

export type ConnectorInboundSeenTable = {
  connector_id: string;
  replay_key: string;
  seen_at: string;
};

/** Migration 0160: one delivery attempt of an outbox row (its history). */
export type OutboxAttemptsTable = {
  outbox_id: string;
  attempt: number;
  lease_owner: string;
  started_at: string;
  ended_at: string | null;
  status: number | null;
  latency_ms: number | null;
  outcome: string;
  category: string | null;
  message: string | null;
};

export type Database = {
  schedules: SchedulesTable;
  schedule_fires: ScheduleFiresTable;
  skill_onboarding: SkillOnboardingTable;
  events: EventsTable;
  budget_grants: BudgetGrantsTable;
  skills: SkillsTable;
  memory: MemoryTable;
  secrets: SecretsTable;
  idempotency_keys: IdempotencyKeysTable;
  sessions: SessionsTable;
  runs: RunsTable;
  goals: GoalsTable;
  steps: StepsTable;
  checkpoints: CheckpointsTable;
  payloads: PayloadsTable;
  approvals: ApprovalsTable;
  grants: GrantsTable;
  host_settings: HostSettingsTable;
  run_notes: RunNotesTable;
  run_interrupts: RunInterruptsTable;
  policy_pack_versions: PolicyPackVersionsTable;
  call_windows: CallWindowsTable;
  chain: ChainTable;
  tokens: TokensTable;
  connectors: ConnectorsTable;
  quarantine: QuarantineTable;
  transform_outputs: TransformOutputsTable;
  // --- inbound connectors (issue 23) ---
  connector_adapters: ConnectorAdaptersTable;
  connector_connections: ConnectorConnectionsTable;
  connector_messages: ConnectorMessagesTable;
  connector_inbound_seen: ConnectorInboundSeenTable;
  // --- outbox (issue 23) ---
  outbox: OutboxTable;
  outbox_attempts: OutboxAttemptsTable;
};

/** The one database handle type; services take it (or a transaction of it) in their deps. */
export type Db = Kysely<Database>;
