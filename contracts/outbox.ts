import { z } from 'zod';
import { labelAtomSchema } from './labels.ts';
import { connectorIdSchema } from './tokens.ts';

/**
 * The outbox (issue 23): every message a run sends is a row here first, written in the same
 * transaction as the step that produced it, then delivered by the dispatcher at least once;
 * the receiver dedupes on the idempotency key, which goes with every attempt.
 */
export const outboxStateSchema = z.enum(['queued', 'in_flight', 'delivered', 'dead']);
export type OutboxState = z.infer<typeof outboxStateSchema>;

/**
 * Why an attempt failed. `network`, `timeout`, `rate_limit` and `server` are transient
 * (retried with backoff); `auth` and `invalid` are permanent (dead letter at once), as is
 * `lease_expired` when the host died during the last allowed attempt.
 */
export const deliveryErrorCategorySchema = z.enum([
  'network',
  'timeout',
  'rate_limit',
  'server',
  'auth',
  'invalid',
  'lease_expired',
]);
export type DeliveryErrorCategory = z.infer<typeof deliveryErrorCategorySchema>;

export const outboxIdSchema = z.string().regex(/^obx_[0-9a-f]{32}$/);

/** Caller-chosen, or derived from run, step and content; unique across the outbox. */
export const idempotencyKeySchema = z
  .string()
  .min(8)
  .max(200)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, ".", "_", ":" and "-" only');

export const channelIdSchema = z.string().min(1).max(200);

/** What an outbound message carries: text, and the message it answers, if any. */
export const outboundContentSchema = z.strictObject({
  text: z.string().min(1).max(16_000),
  reply_to: z.string().min(1).max(200).optional(),
});
export type OutboundContent = z.infer<typeof outboundContentSchema>;

/**
 * What the agent's `ccos__send_message` asks for: a channel named by connector and channel id,
 * or (the agent's usual way) `reply_to_message`, the id of a message of its own session, whose
 * channel the host looks up — the agent never learns the channel, which is metadata.
 */
export const sendMessageInputSchema = z
  .strictObject({
    connector_id: connectorIdSchema.optional(),
    channel_id: channelIdSchema.optional(),
    reply_to_message: z.string().min(1).max(100).optional(),
    text: outboundContentSchema.shape.text,
    reply_to: outboundContentSchema.shape.reply_to,
    idempotency_key: idempotencyKeySchema.optional(),
  })
  .refine(
    (v) =>
      v.reply_to_message === undefined
        ? v.connector_id !== undefined && v.channel_id !== undefined
        : v.connector_id === undefined && v.channel_id === undefined,
    { error: 'give reply_to_message, or connector_id and channel_id (not both)' },
  );
export type SendMessageInput = z.infer<typeof sendMessageInputSchema>;

/** One attempt at delivering a message, as its history shows it. */
export const deliveryAttemptSchema = z.strictObject({
  attempt: z.number().int().positive(),
  started_at: z.string(),
  /** Null while the attempt is in flight (or the host died during it). */
  ended_at: z.string().nullable(),
  /** The receiver's HTTP status, when it answered. */
  status: z.number().int().nullable(),
  latency_ms: z.number().int().nonnegative().nullable(),
  outcome: z.enum(['in_flight', 'delivered', 'retry', 'dead']),
  category: deliveryErrorCategorySchema.nullable(),
  /** Redacted. */
  message: z.string().nullable(),
});
export type DeliveryAttempt = z.infer<typeof deliveryAttemptSchema>;

/** An outbox row as the API shows it: no content (that is in `OutboxMessageDetail`). */
export const outboxMessageSchema = z.strictObject({
  id: outboxIdSchema,
  idempotency_key: z.string(),
  connector_id: z.string(),
  channel_id: z.string(),
  run_id: z.string().nullable(),
  step_id: z.string().nullable(),
  label: z.array(labelAtomSchema),
  content_sha256: z.string(),
  state: outboxStateSchema,
  attempts: z.number().int().nonnegative(),
  max_attempts: z.number().int().positive(),
  next_attempt_at: z.string(),
  last_error_category: deliveryErrorCategorySchema.nullable(),
  /** Redacted. */
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type OutboxMessage = z.infer<typeof outboxMessageSchema>;

/** `GET /v1/outbox/{id}`: the row, its content (redacted) and its delivery history. */
export const outboxMessageDetailSchema = outboxMessageSchema.extend({
  content: outboundContentSchema,
  history: z.array(deliveryAttemptSchema),
});
export type OutboxMessageDetail = z.infer<typeof outboxMessageDetailSchema>;

/** Where a page of `GET /v1/outbox` ends: the `created_at` and id of its last message. */
export const outboxCursorSchema = z
  .string()
  .regex(
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z~obx_[0-9a-f]{32}$/,
    'a next_cursor from a previous page',
  );

/** `GET /v1/outbox`: newest first, filtered by state, connector and run. */
export const outboxListQuerySchema = z.strictObject({
  state: outboxStateSchema.optional(),
  connector: connectorIdSchema.optional(),
  run: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: outboxCursorSchema.optional(),
});
export type OutboxListQuery = z.infer<typeof outboxListQuerySchema>;

export const outboxListSchema = z.strictObject({
  messages: z.array(outboxMessageSchema),
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: outboxCursorSchema.nullable(),
});
export type OutboxList = z.infer<typeof outboxListSchema>;

/** `POST /v1/outbox/{id}/retry`: a dead letter gets a new budget of attempts. */
export const outboxRetryInputSchema = z.strictObject({
  /** Attempts the message may make from now; the host's `max_attempts` default when absent. */
  attempts: z.number().int().min(1).max(50).optional(),
});
export type OutboxRetryInput = z.infer<typeof outboxRetryInputSchema>;

/** A duration of whole units, as the CLI takes it: `90s`, `30m`, `7d`, `1d12h`. */
export const durationTextSchema = z
  .string()
  .max(40)
  .regex(/^(\d+(ms|s|m|h|d))+$/, 'a duration such as 30m, 12h, 7d or 1d12h');

/** `POST /v1/outbox/prune`: deletes delivered and dead rows settled before now − `older_than`. */
export const outboxPruneInputSchema = z.strictObject({
  /** At least one minute: a prune never races the dispatcher's settling of a fresh row. */
  older_than: durationTextSchema,
});
export type OutboxPruneInput = z.infer<typeof outboxPruneInputSchema>;

export const outboxPruneResultSchema = z.strictObject({ deleted: z.number().int().nonnegative() });
export type OutboxPruneResult = z.infer<typeof outboxPruneResultSchema>;

/** What an admin action on one message did: the message as it is now, or gone. */
export const outboxActionResultSchema = z.strictObject({
  id: outboxIdSchema,
  action: z.enum(['retry', 'discard']),
  /** The message after a retry; null after a discard (the row is deleted). */
  message: outboxMessageSchema.nullable(),
});
export type OutboxActionResult = z.infer<typeof outboxActionResultSchema>;

/** The pack's delivery settings; the row keeps the max it was queued with. */
export const outboxSettingsSchema = z.strictObject({
  max_attempts: z.number().int().min(1).max(50).default(8),
  base_delay_ms: z.number().int().min(10).max(3_600_000).default(1_000),
  max_delay_ms: z.number().int().min(10).max(86_400_000).default(600_000),
});
export type OutboxSettings = z.infer<typeof outboxSettingsSchema>;
