import { z } from 'zod';
import { labelInputSchema } from './labels.ts';
import {
  activationSchema,
  externalIdSchema,
  type Activation,
  type MessageEnvelope,
} from './message-envelope.ts';
import { budgetRequestSchema } from './runs.ts';
import { connectorIdSchema } from './tokens.ts';

/**
 * The connector adapter contract (issue 23). Version 1; an adapter states the version it
 * implements and the host refuses one it does not know, so the contract can grow without an
 * old adapter being driven by rules it never agreed to.
 */
export const CONNECTOR_ADAPTER_VERSION = 1;

/** The adapters this host ships (TypeScript built-ins; a third party's runs in an isolate). */
export const adapterKindSchema = z.enum(['webhook', 'local_chat']);
export type AdapterKind = z.infer<typeof adapterKindSchema>;

/** Default and largest accepted raw inbound body. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** How far a signed timestamp may be from the host's clock, by default (5 minutes). */
export const DEFAULT_REPLAY_WINDOW_MS = 5 * 60 * 1000;

/**
 * How inbound requests prove they come from the connector's sender. `hmac`: header
 * `x-ccos-timestamp` (unix ms) and `x-ccos-signature: sha256=<hex>` over `<timestamp>.<body>`
 * with the connector's secret, within the replay window, each signature accepted once.
 * `bearer`: `Authorization: Bearer <secret>`. `person`: the local chat — the gateway's own
 * admin authentication (token or UI session) is the proof.
 */
export const inboundAuthSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('hmac'),
    replay_window_ms: z
      .number()
      .int()
      .min(10_000)
      .max(60 * 60 * 1000)
      .default(DEFAULT_REPLAY_WINDOW_MS),
  }),
  z.strictObject({ mode: z.literal('bearer') }),
  z.strictObject({ mode: z.literal('person') }),
]);
export type InboundAuth = z.infer<typeof inboundAuthSchema>;

/** Which group messages wake an agent; direct messages always do. */
export const activationRulesSchema = z.strictObject({
  /** Names a group message must mention (in its `mentions`) to address the agent. */
  mention_names: z.array(z.string().min(1).max(100)).max(20).default([]),
  /** Words that address the agent when the text contains one (case-insensitive, whole word). */
  keywords: z.array(z.string().min(1).max(100)).max(20).default([]),
  /** Senders whose group messages may activate; empty means no group message activates. */
  group_sender_allowlist: z.array(externalIdSchema).max(1000).default([]),
});
export type ActivationRules = z.infer<typeof activationRulesSchema>;

/** The run a message creates when its session has none: goal, budget and pack. */
export const runTemplateSchema = z.strictObject({
  goal: z.string().min(1).max(4000),
  budget: budgetRequestSchema.optional(),
  /** Must be one of the connector record's `allowed_packs`; the first of them when absent. */
  policy_pack: z.string().min(1).max(100).optional(),
});
export type RunTemplate = z.infer<typeof runTemplateSchema>;

/** `PUT /v1/connectors/{id}/adapter`: what an admin configures for a connector. */
export const adapterConfigInputSchema = z.strictObject({
  adapter: adapterKindSchema,
  version: z.literal(CONNECTOR_ADAPTER_VERSION).default(CONNECTOR_ADAPTER_VERSION),
  inbound_auth: inboundAuthSchema,
  activation: activationRulesSchema.default({
    mention_names: [],
    keywords: [],
    group_sender_allowlist: [],
  }),
  template: runTemplateSchema,
  max_payload_bytes: z
    .number()
    .int()
    .min(256)
    .max(MAX_PAYLOAD_BYTES)
    .default(DEFAULT_MAX_PAYLOAD_BYTES),
  // --- outbox wiring (issue 23) ---
  /**
   * Where a webhook connector's outbound messages are POSTed (the outbox's webhook transport).
   * Without it the connector cannot send: a send is refused with `egress.channel`. The host
   * checks the origin as for a skill's egress (https; http only to loopback when allowed).
   */
  outbound_url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional(),
});
export type AdapterConfigInput = z.input<typeof adapterConfigInputSchema>;

/** A connector's adapter configuration as stored and shown (never its secret's value). */
export const adapterConfigSchema = adapterConfigInputSchema.extend({
  connector_id: connectorIdSchema,
  /** The secret store entry holding the HMAC key or bearer token; null for `person`. */
  secret_name: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type AdapterConfig = z.infer<typeof adapterConfigSchema>;

/** What `PUT …/adapter` answers: the config and, only when it was just made, the secret. */
export const adapterConfigResultSchema = z.strictObject({
  config: adapterConfigSchema,
  /** Shown once: the HMAC key or bearer token the sender must use. */
  secret: z.string().nullable(),
});

/** One attachment in a raw inbound message (text only in version 1). */
export const rawAttachmentSchema = z.strictObject({
  media_type: z.string().min(1).max(100),
  text: z.string().max(MAX_PAYLOAD_BYTES),
});

/**
 * The body a webhook sender posts (and, without `chat_type` choices, what the local chat
 * posts): raw content and the metadata routing needs.
 */
export const rawInboundMessageSchema = z.strictObject({
  id: externalIdSchema,
  channel_id: externalIdSchema,
  chat_type: z.enum(['direct', 'group']),
  sender_id: externalIdSchema,
  thread_id: externalIdSchema.optional(),
  reply_to: externalIdSchema.optional(),
  sent_at: z.iso.datetime({ offset: true }).optional(),
  text: z.string().max(MAX_PAYLOAD_BYTES),
  mentions: z.array(z.string().min(1).max(100)).max(50).optional(),
  attachments: z.array(rawAttachmentSchema).max(5).optional(),
});
export type RawInboundMessage = z.infer<typeof rawInboundMessageSchema>;

/** `POST /v1/chat/messages`: the person's message from the desktop UI's chat panel. */
export const localChatMessageInputSchema = z.strictObject({
  /** The client's id for the message, so a resend is recognised as the same one. */
  id: externalIdSchema,
  /** The conversation; one per chat panel thread. */
  channel_id: externalIdSchema.default('local'),
  text: z
    .string()
    .min(1)
    .max(64 * 1024),
  reply_to: externalIdSchema.optional(),
});
export type LocalChatMessageInput = z.input<typeof localChatMessageInputSchema>;

/**
 * What `send` takes: content the policy lets leave (`public`, or `pii.redacted` approved as
 * the contract requires) and the idempotency key the receiver dedupes on.
 */
export const outboundMessageSchema = z.strictObject({
  connector_id: connectorIdSchema,
  channel_id: externalIdSchema,
  content: z
    .string()
    .min(1)
    .max(64 * 1024),
  content_label: labelInputSchema,
  reply_to: externalIdSchema.nullable(),
  idempotency_key: z.string().min(1).max(200),
});
export type OutboundMessage = z.infer<typeof outboundMessageSchema>;

/**
 * Where `send` hands a message: the outbox (main/outbox, the outbound half of issue 23)
 * owns delivery, retries and dead letters. This is the whole seam between the two halves.
 */
export type OutboundQueue = {
  enqueue: (message: OutboundMessage) => Promise<{ id: string }>;
};

/** How a connection failed, as an adapter reports it and a person is shown it. */
export const connectorErrorCategorySchema = z.enum(['auth', 'network', 'rate_limit', 'invalid']);
export type ConnectorErrorCategory = z.infer<typeof connectorErrorCategorySchema>;

/** What `health()` says. */
export const connectorHealthSchema = z.strictObject({
  ok: z.boolean(),
  /** Set when not ok. */
  category: connectorErrorCategorySchema.nullable(),
  detail: z.string().max(500).nullable(),
});
export type ConnectorHealth = z.infer<typeof connectorHealthSchema>;

/** A raw inbound request as the gateway hands it to an adapter: headers and exact bytes. */
export type InboundRequest = {
  header: (name: string) => string | undefined;
  body: Uint8Array;
  received_at: Date;
};

/**
 * An authentication verdict. `replay_key` is what must be seen only once (the signature);
 * a refusal names its rule (`connector.<rule>`) and never echoes the request.
 */
export type AuthVerdict =
  { ok: true; replay_key: string | null } | { ok: false; rule_id: string; reason: string };

/** What the host adds to a parsed message to make its envelope. */
export type EnvelopeParts = {
  id: string;
  connector_id: string;
  content_ref: MessageEnvelope['content_ref'];
  attachments: MessageEnvelope['attachments'];
  activation: Activation;
  received_at: Date;
};

/**
 * A connector adapter, version 1. The host calls `authenticate`, then `parse`, stores the raw
 * content in quarantine itself, then asks `activation` and `normalize`; an adapter never
 * sees the quarantine, a run or the chain.
 */
export type ConnectorAdapter = {
  readonly kind: AdapterKind;
  readonly version: typeof CONNECTOR_ADAPTER_VERSION;
  /** Starts serving a connector (a polling or socket adapter opens its link here). */
  connect: (config: AdapterConfig) => Promise<void>;
  /** Stops serving every connector (at host stop). */
  disconnect: () => Promise<void>;
  /** Whether it can serve `connectorId` now; a failure names its category. */
  health: (connectorId: string) => Promise<ConnectorHealth>;
  /**
   * Checks the request's proof against the connector's rules and secret (constant time). One
   * adapter serves every connector of its kind, so the connector's config is passed each time.
   */
  authenticate: (
    request: InboundRequest,
    config: AdapterConfig,
    secret: string | null,
  ) => AuthVerdict;
  /** Raw bytes to a message; INVALID_INPUT-like refusals carry a rule id. */
  parse: (
    body: Uint8Array,
  ) => { ok: true; message: RawInboundMessage } | { ok: false; rule_id: string; reason: string };
  activation: (message: RawInboundMessage, rules: ActivationRules) => Activation;
  normalize: (message: RawInboundMessage, parts: EnvelopeParts) => MessageEnvelope;
  /** Hands an outbound message to the outbox; delivery is the outbox's. */
  send: (message: OutboundMessage) => Promise<{ id: string }>;
};

/** A channel connection: a new one waits for a `channel` approval before any message is processed. */
export const connectionStateSchema = z.enum(['pending_approval', 'approved', 'denied']);

export const connectionSchema = z.strictObject({
  id: z.string(),
  connector_id: connectorIdSchema,
  channel_id: externalIdSchema,
  state: connectionStateSchema,
  session_id: z.string(),
  approval_id: z.string().nullable(),
  created_at: z.string(),
  decided_at: z.string().nullable(),
});
export type Connection = z.infer<typeof connectionSchema>;

/** What the inbound endpoints answer: what became of the message (never its content). */
export const inboundResultSchema = z.strictObject({
  message_id: z.string(),
  outcome: z.enum([
    'created_run',
    'resumed_run',
    'delivered_to_active_run',
    'waiting_channel_approval',
    'not_activated',
    'channel_denied',
    'duplicate',
  ]),
  run_id: z.string().nullable(),
  activation: activationSchema.nullable(),
});
export type InboundResult = z.infer<typeof inboundResultSchema>;
