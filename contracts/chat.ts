import { z } from 'zod';
import { connectionStateSchema } from './connector-adapter.ts';
import { externalIdSchema } from './message-envelope.ts';
import { outboundContentSchema, outboxStateSchema } from './outbox.ts';
import { connectorIdSchema } from './tokens.ts';

/** Most messages one page of a conversation holds. */
export const CHAT_PAGE_MAX = 200;

/**
 * Where a page ends: opaque to the client (base64url of the last message's time and id), so
 * the server may change what it holds; a cursor the server did not make is refused (400).
 */
export const chatCursorSchema = z
  .string()
  .min(1)
  .max(400)
  .regex(/^[A-Za-z0-9_-]+$/, 'a cursor from next_cursor');

export const chatConversationQuerySchema = z.strictObject({
  connector: connectorIdSchema.default('local-chat').describe('the local chat connector'),
  /** Messages after this one (`next_cursor` of the previous page); absent, from the start. */
  after: chatCursorSchema.optional(),
  limit: z.coerce.number().int().min(1).max(CHAT_PAGE_MAX).default(50),
});
export type ChatConversationQuery = z.infer<typeof chatConversationQuerySchema>;

/**
 * Why a message has no text: its quarantine blob expired or was purged (the person's
 * message), or its outbox row no longer holds it.
 */
export const chatTextGoneSchema = z.enum(['expired', 'purged']);

/** The person's message as they sent it, and what became of it. */
export const chatInboundMessageSchema = z.strictObject({
  direction: z.literal('inbound'),
  /** The host's message id (`msg_…`). */
  id: z.string(),
  /** The id the UI gave it (`POST /v1/chat/messages`). */
  client_id: externalIdSchema,
  at: z.string(),
  /** Their own text, read back from the quarantine; null once it is gone. */
  text: z.string().nullable(),
  text_gone: chatTextGoneSchema.nullable(),
  /**
   * The road the message took to an agent: each transform output made from it (the agent
   * reads those, never the text), oldest first. Names and labels only, never an output.
   */
  seen_through: z.array(
    z.strictObject({
      /** The transform capability, e.g. `ccos.transform.summarize`. */
      capability_id: z.string(),
      /** The label of what the agent was given. */
      label: z.array(z.string()),
      run_id: z.string(),
      at: z.string(),
    }),
  ),
  /** `waiting` until the channel is approved; `routed` once a run has it. */
  state: z.enum(['waiting', 'routed', 'not_activated', 'refused']),
  run_id: z.string().nullable(),
});

export type ChatInboundMessage = z.infer<typeof chatInboundMessageSchema>;

/** An agent's reply to the channel (an outbox row of the local chat connector). */
export const chatOutboundMessageSchema = z.strictObject({
  direction: z.literal('outbound'),
  /** The outbox id (`obx_…`), as in the `message.outbound` frame. */
  id: z.string(),
  at: z.string(),
  /** As it was queued (redacted when it was queued). */
  text: z.string(),
  reply_to: z.string().nullable(),
  state: outboxStateSchema,
  run_id: z.string().nullable(),
});

export const chatMessageSchema = z.discriminatedUnion('direction', [
  chatInboundMessageSchema,
  chatOutboundMessageSchema,
]);
export type ChatMessage = z.infer<typeof chatMessageSchema>;

/** One page of a local chat channel, oldest first. */
export const chatConversationSchema = z.strictObject({
  connector_id: connectorIdSchema,
  channel_id: externalIdSchema,
  /** The channel's approval state; null when no message was ever sent on it. */
  connection: z
    .strictObject({
      state: connectionStateSchema,
      approval_id: z.string().nullable(),
    })
    .nullable(),
  messages: z.array(chatMessageSchema),
  /** Pass as `after` for the next page; null when this page reaches the newest message. */
  next_cursor: chatCursorSchema.nullable(),
});
export type ChatConversation = z.infer<typeof chatConversationSchema>;

/**
 * What a `message.outbound` frame of `GET /v1/events` carries in `data`: the chain entry's ids
 * and, joined from the outbox row as the frame is sent, the text. Extra keys are allowed (the
 * entry's digest, attempt, idempotency key).
 */
export const chatOutboundFrameSchema = z.object({
  outbox_id: z.string(),
  connector_id: connectorIdSchema,
  channel_id: externalIdSchema,
  text: outboundContentSchema.shape.text,
  reply_to: outboundContentSchema.shape.reply_to,
});
