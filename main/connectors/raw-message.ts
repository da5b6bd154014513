import {
  rawInboundMessageSchema,
  type EnvelopeParts,
  type RawInboundMessage,
} from '../../contracts/connector-adapter.ts';
import { INBOUND_ENVELOPE_LABELS, type MessageEnvelope } from '../../contracts/message-envelope.ts';
import type { Taint } from '../../contracts/labels.ts';
import { RULE_INVALID_MESSAGE, RULE_MALFORMED_JSON } from './inbound-auth.ts';

export type ParseOutcome =
  { ok: true; message: RawInboundMessage } | { ok: false; rule_id: string; reason: string };

/**
 * Raw bytes to a message. A refusal names the fields by path count and zod issue codes only:
 * a key or value of the body is the sender's text and never goes into an error or the chain.
 */
export function parseRawMessage(body: Uint8Array): ParseOutcome {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return { ok: false, rule_id: RULE_MALFORMED_JSON, reason: 'the body is not UTF-8 JSON' };
  }
  const parsed = rawInboundMessageSchema.safeParse(json);
  if (!parsed.success) {
    const codes = [...new Set(parsed.error.issues.map((i) => i.code))].sort();
    return {
      ok: false,
      rule_id: RULE_INVALID_MESSAGE,
      reason: `the message does not match the schema (${parsed.error.issues.length} issue(s): ${codes.join(', ')})`,
    };
  }
  return { ok: true, message: parsed.data };
}

/** A parsed message and the host's parts to its envelope: metadata and pointers only. */
export function envelopeOf(
  message: RawInboundMessage,
  parts: EnvelopeParts,
  taint: Taint,
): MessageEnvelope {
  return {
    id: parts.id,
    connector_id: parts.connector_id,
    external_id: message.id,
    channel_id: message.channel_id,
    sender_id: message.sender_id,
    thread_id: message.thread_id ?? null,
    reply_to: message.reply_to ?? null,
    timestamp: message.sent_at ?? parts.received_at.toISOString(),
    received_at: parts.received_at.toISOString(),
    direction: 'inbound',
    content_ref: parts.content_ref,
    attachments: parts.attachments,
    activation: parts.activation,
    labels: INBOUND_ENVELOPE_LABELS,
    taint,
  };
}
