import { z } from 'zod';

/** Audit event types: the security contract's names plus the project's (ARCHITECTURE.md §6). */
export const chainEventTypeSchema = z.enum([
  'message.ingest',
  'quarantine.access',
  'transform.output',
  'policy.decision',
  'egress.attempt',
  /** How a request an `egress.attempt` announced ended (same `data.request_id`). */
  'egress.outcome',
  'approval.request',
  'approval.decision',
  'session.created',
  'run.created',
  'run.transition',
  /** A person's note to a run's agent (issue 24); its text is a payload named by digest. */
  'run.note',
  /** Notes the worker's checkpoint now holds: the agent has read them. */
  'run.note_delivered',
  /** A person asked a run to stop at its next step boundary. */
  'run.interrupt',
  'segment.started',
  'segment.ended',
  'checkpoint',
  'llm.call',
  'skill.execute',
  'budget.exceeded',
  'budget.warning',
  'budget.granted',
  'event.received',
  'schedule.fired',
  'schedule.missed',
  'schedule.created',
  'schedule.updated',
  'schedule.deleted',
  'outbound.attempt',
  'memory.write',
  'skill.loaded',
  'skill.unloaded',
  'skill.enabled',
  'skill.disabled',
  'skill.onboarding',
  'auth.denied',
  'token.created',
  'token.revoked',
  'secret.written',
  'secret.deleted',
  'connector.configured',
  /** A run's payloads were purged: their content is gone, their digests stay on the chain. */
  'payloads.purged',
  /** Standing approvals (issue 22): a grant made from an approval, one call it let through, its revocation. */
  'grant.created',
  'grant.used',
  'grant.revoked',
  /** Quarantined blobs were deleted (a purge per session or sender, or their TTL): pointers only. */
  'quarantine.purged',
  // --- governed memory (issue 22) ---
  /** An admin deleted one memory item (its value is not on the entry). */
  'memory.deleted',
  /** An admin purged a run's, a session's or a namespace's memory items. */
  'memory.purged',
  // --- inbound connectors (issue 23) ---
  /** An inbound request refused before its content was stored (bad proof, malformed…); `rule_id` says why. */
  'message.rejected',
  /** A second delivery of a message already accepted (same connector and external id): ignored. */
  'message.duplicate',
  /** What became of an accepted message: a run created or resumed, waiting for its channel, not activated. */
  'message.routed',
  /** A connector's adapter was configured, or removed. */
  'connector.adapter_set',
  'connector.adapter_removed',
  /** A channel connection was decided (its `channel` approval): approved or denied. */
  'connection.decided',
  // --- outbox (issue 23) ---
  /** A message was written to the outbox (its content is a digest, never the text). */
  'outbox.queued',
  /** An admin acted on an outbox message: retry, discard, or a prune of old settled rows. */
  'outbox.admin',
  /** A message the local chat connector delivered to the UI's event stream. */
  'message.outbound',
]);
export type ChainEventType = z.infer<typeof chainEventTypeSchema>;

export const GENESIS_HASH = '0'.repeat(64);

export const chainEntrySchema = z.strictObject({
  seq: z.number().int().positive(),
  event_id: z.string(),
  event_type: chainEventTypeSchema,
  timestamp: z.string(),
  session_id: z.string().nullable(),
  run_id: z.string().nullable(),
  /** A real step id, or a synthetic one (`synthetic:<event_id>`) where no step exists. */
  step_id: z.string(),
  policy_pack_version: z.string(),
  capability_id: z.string().nullable(),
  capability_version: z.string().nullable(),
  rule_id: z.string().nullable(),
  correlation_id: z.string().nullable(),
  actor: z.string(),
  data: z.record(z.string(), z.unknown()),
  prev_hash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ChainEntry = z.infer<typeof chainEntrySchema>;

/**
 * A chain head signed with the host's ed25519 key, which is kept outside the database: a
 * database rewritten and re-hashed, or cut short, no longer matches its signed heads.
 * The signature covers `canonical_json({format: CHAIN_HEAD_FORMAT, seq, hash, signed_at, key_id})`.
 */
export const signedHeadSchema = z.strictObject({
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  signed_at: z.string(),
  /** First 16 hex digits of the SHA-256 of the raw public key. */
  key_id: z.string().regex(/^[0-9a-f]{16}$/),
  /** base64 of the 64-byte ed25519 signature. */
  signature: z.string(),
});
export type SignedHead = z.infer<typeof signedHeadSchema>;
export const CHAIN_HEAD_FORMAT = 'ccos-chain-head/1';

/** What signed heads told a verification. */
export const signedHeadsSummarySchema = z.strictObject({
  count: z.number().int().min(0),
  /** The newest signed seq (null without any). */
  last_seq: z.number().int().nullable(),
  key_id: z.string(),
});

export const chainVerifyResultSchema = z.discriminatedUnion('ok', [
  z.strictObject({
    ok: z.literal(true),
    entries: z.number().int().min(0),
    head: z.string(),
    signed_heads: signedHeadsSummarySchema.optional(),
  }),
  z.strictObject({
    ok: z.literal(false),
    entries: z.number().int().min(0),
    broken_at_seq: z.number().int(),
    reason: z.enum([
      'hash_mismatch',
      'prev_hash_mismatch',
      'seq_gap',
      'malformed_entry',
      /** A signed head names an entry whose hash is not the one signed: rewritten and re-hashed. */
      'signed_head_mismatch',
      /** A signed head names an entry that is not there: the newest entries were removed. */
      'truncated',
      /** A head's signature does not verify with the key: forged or damaged. */
      'bad_signature',
      /** An export without a signed head covering its last entry. */
      'unsigned',
    ]),
    message: z.string(),
  }),
]);
export type ChainVerifyResult = z.infer<typeof chainVerifyResultSchema>;

/**
 * `GET /v1/chain/export` and `ccos chain export`: newline-delimited JSON, a header line, then
 * every entry in seq order, then every signed head up to the last entry (the host signs its
 * head as it exports). `ccos chain verify --file` checks it offline.
 */
export const CHAIN_EXPORT_FORMAT = 'ccos-chain-export/1';
export const chainExportLineSchema = z.union([
  z.strictObject({
    format: z.literal(CHAIN_EXPORT_FORMAT),
    exported_at: z.string(),
    /** The signing key's public half: base64 of its SPKI DER. Pin it with `--public-key`. */
    public_key: z.string(),
    key_id: z.string(),
  }),
  z.strictObject({ entry: chainEntrySchema }),
  z.strictObject({ head: signedHeadSchema }),
]);
export type ChainExportLine = z.infer<typeof chainExportLineSchema>;

export const chainQuerySchema = z.strictObject({
  run_id: z.string().optional(),
  event_type: chainEventTypeSchema.optional(),
  /** ISO 8601 instants with any offset; compared as instants. */
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  after_seq: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
});
export type ChainQuery = z.infer<typeof chainQuerySchema>;
