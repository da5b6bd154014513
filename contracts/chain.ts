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

export const chainVerifyResultSchema = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), entries: z.number().int().min(0), head: z.string() }),
  z.strictObject({
    ok: z.literal(false),
    entries: z.number().int().min(0),
    broken_at_seq: z.number().int(),
    reason: z.enum(['hash_mismatch', 'prev_hash_mismatch', 'seq_gap', 'malformed_entry']),
    message: z.string(),
  }),
]);
export type ChainVerifyResult = z.infer<typeof chainVerifyResultSchema>;

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
