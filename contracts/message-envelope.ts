import { z } from 'zod';
import { labelInputSchema, taintSchema } from './labels.ts';
import { contentRefSchema } from './quarantine.ts';
import { connectorIdSchema } from './tokens.ts';

/** Ids external systems give their channels, senders, threads and messages. */
export const externalIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/**
 * Why a message does or does not wake an agent (CHAT-SECURITY-CONTRACT.md, "Activation and
 * consent"): a direct message always does; in a group only a mention or a keyword from an
 * allowlisted sender.
 */
export const activationSchema = z.discriminatedUnion('activated', [
  z.strictObject({
    activated: z.literal(true),
    reason: z.enum(['direct', 'mention', 'keyword']),
  }),
  z.strictObject({
    activated: z.literal(false),
    reason: z.enum(['not_addressed', 'sender_not_allowlisted']),
  }),
]);
export type Activation = z.infer<typeof activationSchema>;

/**
 * The label of each envelope field (the contract's inbound defaults: text `pii.chat.message`,
 * attachments `pii.attachment`, sender, channel, thread and timestamps `pii.chat.metadata`).
 */
export const envelopeLabelsSchema = z.strictObject({
  content: labelInputSchema,
  attachments: labelInputSchema,
  sender_id: labelInputSchema,
  channel_id: labelInputSchema,
  thread_id: labelInputSchema,
  reply_to: labelInputSchema,
  timestamp: labelInputSchema,
});
export type EnvelopeLabels = z.infer<typeof envelopeLabelsSchema>;

/** The labels every inbound envelope carries, whatever its adapter. */
export const INBOUND_ENVELOPE_LABELS: EnvelopeLabels = {
  content: 'pii.chat.message',
  attachments: 'pii.attachment',
  sender_id: 'pii.chat.metadata',
  channel_id: 'pii.chat.metadata',
  thread_id: 'pii.chat.metadata',
  reply_to: 'pii.chat.metadata',
  timestamp: 'pii.chat.metadata',
};

/** One attachment as the agent sees it: a quarantine pointer and what it claims to be. */
export const attachmentRefSchema = z.strictObject({
  content_ref: contentRefSchema,
  media_type: z.string().max(100),
});

/**
 * What flows through the host for one message (CHAT-SECURITY-CONTRACT.md, "Quarantine"):
 * metadata and pointers, never the raw text. An agent reads the content only through a
 * transform capability given `content_ref`.
 */
export const messageEnvelopeSchema = z.strictObject({
  /** The host's id (`msg_…`). */
  id: z.string(),
  connector_id: connectorIdSchema,
  /** The sender system's id for the message: a second delivery with it is a duplicate. */
  external_id: externalIdSchema,
  channel_id: externalIdSchema,
  sender_id: externalIdSchema,
  thread_id: externalIdSchema.nullable(),
  reply_to: externalIdSchema.nullable(),
  /** When the sender says it was sent (ISO 8601), or when it was received without one. */
  timestamp: z.string(),
  received_at: z.string(),
  direction: z.enum(['inbound', 'outbound']),
  content_ref: contentRefSchema,
  attachments: z.array(attachmentRefSchema).max(20),
  activation: activationSchema,
  labels: envelopeLabelsSchema,
  /** `trusted` only for the person's own local chat; every other channel is `untrusted`. */
  taint: taintSchema,
});
export type MessageEnvelope = z.infer<typeof messageEnvelopeSchema>;

// --- waiting for a message (issue 23) ---
/** The event type a run waits for (`waiting_for`) to be resumed by its session's next message. */
export const CONNECTOR_MESSAGE_EVENT = 'connector.message';
