import type { Approval } from '../../contracts/approvals.ts';
import type {
  AdapterConfig,
  AdapterKind,
  ConnectorAdapter,
  InboundRequest,
  InboundResult,
  LocalChatMessageInput,
  RawInboundMessage,
} from '../../contracts/connector-adapter.ts';
import { localChatMessageInputSchema } from '../../contracts/connector-adapter.ts';
import type { ErrorCode } from '../../contracts/errors.ts';
import {
  messageEnvelopeSchema,
  type Activation,
  type MessageEnvelope,
} from '../../contracts/message-envelope.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import { AppError, invalidInput } from '../errors.ts';
import type { QuarantineStore } from '../quarantine/quarantine-store.ts';
import type { Db } from '../store/schema.ts';
import type { AdapterConfigs } from './adapter-configs.ts';
import type { ChannelConnections } from './channel-connections.ts';
import { RULE_CHANNEL_DENIED } from './channel-connections.ts';
import { RULE_OVERSIZED, RULE_REPLAY, RULE_UNKNOWN_CONNECTOR } from './inbound-auth.ts';
import type { InboundRouting, Routed } from './inbound-routing.ts';
import {
  RefusalAuditLimit,
  UNKNOWN_CONNECTOR_KEY,
  type RefusalAuditLimitSettings,
  type SuppressedRefusals,
} from './refusal-audit-limit.ts';

export type ConnectorInboundDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  configs: AdapterConfigs;
  connections: ChannelConnections;
  routing: InboundRouting;
  quarantine: QuarantineStore;
  adapters: Readonly<Record<AdapterKind, ConnectorAdapter>>;
  /** How many refusals per connector and window get their own entry (a flood is counted). */
  refusalAuditLimit?: RefusalAuditLimitSettings;
};

/** The rule of the entry that records how many refusals a flood left uncounted. */
export const RULE_REFUSAL_AUDIT_LIMIT = 'connector.refusal_audit_limit';

/** What a connector's own messages are recorded as, when no person sent them. */
export function connectorActor(connectorId: string): string {
  return `connector:${connectorId}`;
}

/** The sender id of the person at the local chat. */
export const LOCAL_PERSON_SENDER = 'person';

/** A refusal before anything is stored: audited, then answered with `code`. */
class InboundRefusal extends Error {
  readonly code: ErrorCode;
  readonly rule_id: string;
  readonly reason: string;

  constructor(code: ErrorCode, ruleId: string, reason: string) {
    super(reason);
    this.code = code;
    this.rule_id = ruleId;
    this.reason = reason;
  }
}

/**
 * Inbound messages (issue 23): proof, parse, duplicate check, quarantine, envelope, channel
 * gate, activation, routing. Raw content goes only into the quarantine; every refusal is a
 * `message.rejected` chain entry naming its rule, every accepted message a `message.ingest`
 * and a `message.routed` entry, none of them with content.
 */
export class ConnectorInbound {
  readonly #deps: ConnectorInboundDeps;
  readonly #refusalAudit: RefusalAuditLimit;

  constructor(deps: ConnectorInboundDeps) {
    this.#deps = deps;
    this.#refusalAudit = new RefusalAuditLimit(deps.clock, deps.refusalAuditLimit);
  }

  /** A request off the network (`POST /v1/connectors/{id}/inbound`). */
  async receive(
    connectorId: string,
    request: InboundRequest,
    correlationId: string | null,
  ): Promise<InboundResult> {
    const ctx = { actor: connectorActor(connectorId), correlation_id: correlationId };
    let auditKey = UNKNOWN_CONNECTOR_KEY;
    try {
      const config = await this.#deps.configs.find(connectorId);
      if (config !== undefined) auditKey = connectorId;
      if (config === undefined)
        throw new InboundRefusal('NOT_FOUND', RULE_UNKNOWN_CONNECTOR, 'no such connector');
      this.#checkSize(config, request.body.byteLength);
      const adapter = this.#adapterOf(config);
      const verdict = adapter.authenticate(
        request,
        config,
        await this.#deps.configs.secretOf(config),
      );
      if (!verdict.ok) throw new InboundRefusal('CONNECTOR_AUTH', verdict.rule_id, verdict.reason);
      const parsed = adapter.parse(request.body);
      if (!parsed.ok) throw new InboundRefusal('CONNECTOR_INVALID', parsed.rule_id, parsed.reason);
      return await this.#accept(config, adapter, parsed.message, verdict.replay_key, ctx);
    } catch (e) {
      if (e instanceof InboundRefusal) await this.#refuse(auditKey, connectorId, request, e, ctx);
      throw e instanceof InboundRefusal
        ? new AppError(e.code, e.reason, { rule_id: e.rule_id })
        : e;
    }
  }

  /**
   * The person's message from the desktop chat (`POST /v1/chat/messages`): the gateway has
   * authenticated them already, so no adapter proof is asked; everything after is the same.
   */
  async receiveFromPerson(
    connectorId: string,
    input: LocalChatMessageInput,
    ctx: ActorContext,
  ): Promise<InboundResult> {
    const parsed = localChatMessageInputSchema.safeParse(input);
    if (!parsed.success) throw invalidInput('chat message', parsed.error.issues);
    const config = await this.#deps.configs.get(connectorId);
    if (config.inbound_auth.mode !== 'person')
      throw new AppError('CONNECTOR_INVALID', `connector ${connectorId} is not a local chat`);
    const body = Buffer.from(JSON.stringify(parsed.data), 'utf8');
    this.#checkSize(config, body.byteLength);
    const message: RawInboundMessage = {
      id: parsed.data.id,
      channel_id: parsed.data.channel_id,
      chat_type: 'direct',
      sender_id: LOCAL_PERSON_SENDER,
      text: parsed.data.text,
      ...(parsed.data.reply_to === undefined ? {} : { reply_to: parsed.data.reply_to }),
    };
    return this.#accept(config, this.#adapterOf(config), message, null, ctx);
  }

  /**
   * The `channel` approval's effect, in the decision's transaction: the connection opens or
   * closes, and its waiting messages are processed (or refused) in arrival order.
   */
  async onChannelDecisionIn(tx: ChainTx, approval: Approval, ctx: ActorContext): Promise<void> {
    const connection = await this.#deps.connections.decideIn(tx, approval, ctx);
    if (connection === undefined) return;
    const config = await this.#deps.configs.find(connection.connector_id, tx.db);
    const waiting = await tx.db
      .selectFrom('connector_messages')
      .select(['id', 'envelope'])
      .where('connection_id', '=', connection.id)
      .where('state', '=', 'waiting')
      .orderBy('seq')
      .execute();
    for (const row of waiting) {
      const envelope = messageEnvelopeSchema.parse(JSON.parse(row.envelope));
      const routed = await this.#routeByConnectionIn(tx, envelope, connection, config, ctx);
      await tx.db
        .updateTable('connector_messages')
        .set({ state: routed.state, run_id: routed.run_id })
        .where('id', '=', row.id)
        .execute();
      await this.#recordRoutedIn(tx, envelope, connection.session_id, routed, ctx);
    }
  }

  #checkSize(config: AdapterConfig, bytes: number): void {
    if (bytes > config.max_payload_bytes)
      throw new InboundRefusal(
        'PAYLOAD_TOO_LARGE',
        RULE_OVERSIZED,
        `the body is larger than ${config.max_payload_bytes} bytes`,
      );
  }

  /** Both sides are contract version 1 today; the schema refuses a config of any other. */
  #adapterOf(config: AdapterConfig): ConnectorAdapter {
    return this.#deps.adapters[config.adapter];
  }

  async #accept(
    config: AdapterConfig,
    adapter: ConnectorAdapter,
    message: RawInboundMessage,
    replayKey: string | null,
    ctx: ActorContext,
  ): Promise<InboundResult> {
    const connectorId = config.connector_id;
    return this.#deps.chain.transact(async (tx) => {
      const now = this.#deps.clock.now();
      if (replayKey !== null) await this.#markSeenIn(tx, config, replayKey, now);
      const seen = await tx.db
        .selectFrom('connector_messages')
        .select(['id', 'run_id'])
        .where('connector_id', '=', connectorId)
        .where('external_id', '=', message.id)
        .executeTakeFirst();
      if (seen !== undefined) {
        await tx.append({
          event_type: 'message.duplicate',
          ...auditedBy(ctx),
          data: { connector_id: connectorId, message_id: seen.id },
        });
        return { message_id: seen.id, outcome: 'duplicate', run_id: seen.run_id, activation: null };
      }
      const { connection } = await this.#deps.connections.findOrOpenIn(
        tx,
        connectorId,
        message.channel_id,
        ctx,
      );
      const envelope = await this.#storeIn(
        tx,
        config,
        adapter,
        message,
        connection.session_id,
        now,
        ctx,
      );
      const routed = await this.#routeByConnectionIn(tx, envelope, connection, config, ctx);
      await tx.db
        .insertInto('connector_messages')
        .values({
          id: envelope.id,
          connector_id: connectorId,
          connection_id: connection.id,
          external_id: message.id,
          envelope: JSON.stringify(envelope),
          state: routed.state,
          run_id: routed.run_id,
          received_at: envelope.received_at,
        })
        .execute();
      await this.#recordRoutedIn(tx, envelope, connection.session_id, routed, ctx);
      return {
        message_id: envelope.id,
        outcome: routed.outcome,
        run_id: routed.run_id,
        activation: envelope.activation,
      };
    });
  }

  /** Seals the text and attachments into the quarantine and builds the envelope naming them. */
  async #storeIn(
    tx: ChainTx,
    config: AdapterConfig,
    adapter: ConnectorAdapter,
    message: RawInboundMessage,
    sessionId: string,
    now: Date,
    ctx: ActorContext,
  ): Promise<MessageEnvelope> {
    const base = {
      session_id: sessionId,
      sender_id: message.sender_id,
      channel_id: message.channel_id,
      ...(config.template.policy_pack === undefined
        ? {}
        : { policy_pack: config.template.policy_pack }),
    };
    const text = await this.#deps.quarantine.ingestIn(
      tx,
      { ...base, content: message.text, label: 'pii.chat.message' },
      ctx,
    );
    const attachments = [];
    for (const a of message.attachments ?? []) {
      const stored = await this.#deps.quarantine.ingestIn(
        tx,
        { ...base, content: a.text, label: 'pii.attachment' },
        ctx,
      );
      attachments.push({ content_ref: stored.content_ref, media_type: a.media_type });
    }
    const activation: Activation = adapter.activation(message, config.activation);
    // An adapter's output is an edge like any other: parsed before it is stored or routed.
    const envelope = messageEnvelopeSchema.parse(
      adapter.normalize(message, {
        id: newId('msg'),
        connector_id: config.connector_id,
        content_ref: text.content_ref,
        attachments,
        activation,
        received_at: now,
      }),
    );
    // The blobs were stored untrusted; the adapter vouches for its sender only now (the local
    // chat's is the person), and a transform's output carries its source's taint.
    if (envelope.taint === 'trusted')
      await tx.db
        .updateTable('quarantine')
        .set({ taint: 'trusted' })
        .where('pointer', 'in', [text.content_ref, ...attachments.map((a) => a.content_ref)])
        .execute();
    return envelope;
  }

  /**
   * Where a message goes by its channel's state: it waits while the channel's approval is
   * pending, is refused once it was denied (or its connector is gone), else is routed.
   */
  async #routeByConnectionIn(
    tx: ChainTx,
    envelope: MessageEnvelope,
    connection: Parameters<InboundRouting['routeIn']>[2],
    config: AdapterConfig | undefined,
    ctx: ActorContext,
  ): Promise<
    Routed & { state: 'waiting' | 'routed' | 'not_activated' | 'refused'; rule_id: string | null }
  > {
    if (connection.state === 'pending_approval')
      return { outcome: 'waiting_channel_approval', run_id: null, state: 'waiting', rule_id: null };
    if (connection.state === 'denied' || config === undefined)
      return {
        outcome: 'channel_denied',
        run_id: null,
        state: 'refused',
        rule_id: RULE_CHANNEL_DENIED,
      };
    return this.#routeActivatedIn(tx, envelope, connection, config, ctx);
  }

  async #routeActivatedIn(
    tx: ChainTx,
    envelope: MessageEnvelope,
    connection: Parameters<InboundRouting['routeIn']>[2],
    config: AdapterConfig,
    ctx: ActorContext,
  ): Promise<Routed & { state: 'routed' | 'not_activated'; rule_id: string | null }> {
    if (!envelope.activation.activated)
      return {
        outcome: 'not_activated',
        run_id: null,
        state: 'not_activated',
        rule_id: `connector.activation.${envelope.activation.reason}`,
      };
    const routed = await this.#deps.routing.routeIn(tx, envelope, connection, config, ctx);
    return { ...routed, state: 'routed', rule_id: null };
  }

  async #recordRoutedIn(
    tx: ChainTx,
    envelope: MessageEnvelope,
    sessionId: string,
    routed: Routed & { rule_id: string | null },
    ctx: ActorContext,
  ): Promise<void> {
    await tx.append({
      event_type: 'message.routed',
      ...auditedBy(ctx),
      session_id: sessionId,
      run_id: routed.run_id,
      rule_id: routed.rule_id,
      data: {
        message_id: envelope.id,
        connector_id: envelope.connector_id,
        content_ref: envelope.content_ref,
        outcome: routed.outcome,
        activation: envelope.activation,
        taint: envelope.taint,
      },
    });
  }

  /**
   * Records the signature as seen; a second request with it is a replay. Rows older than
   * twice the window are dropped: a signature that old fails the timestamp check anyway.
   */
  async #markSeenIn(
    tx: ChainTx,
    config: AdapterConfig,
    replayKey: string,
    now: Date,
  ): Promise<void> {
    const window = config.inbound_auth.mode === 'hmac' ? config.inbound_auth.replay_window_ms : 0;
    await tx.db
      .deleteFrom('connector_inbound_seen')
      .where('connector_id', '=', config.connector_id)
      .where('seen_at', '<', new Date(now.getTime() - 2 * window).toISOString())
      .execute();
    const inserted = await tx.db
      .insertInto('connector_inbound_seen')
      .values({
        connector_id: config.connector_id,
        replay_key: replayKey,
        seen_at: now.toISOString(),
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (inserted.numInsertedOrUpdatedRows === 0n)
      throw new InboundRefusal(
        'CONNECTOR_AUTH',
        RULE_REPLAY,
        'this signed request was already received',
      );
  }

  /** Records the refusals a flood left uncounted (host stop: nothing is silent). */
  async flushRefusalCounts(): Promise<void> {
    for (const suppressed of this.#refusalAudit.drain()) await this.#recordSuppressed(suppressed);
  }

  /**
   * The audit of a refusal: rule, reason and size, never a byte of the body; past the audit
   * limit of its connector only counted (`RefusalAuditLimit`).
   */
  async #refuse(
    auditKey: string,
    connectorId: string,
    request: InboundRequest,
    refusal: InboundRefusal,
    ctx: ActorContext,
  ): Promise<void> {
    const admitted = this.#refusalAudit.admit(auditKey);
    if (!admitted.audit) return;
    if (admitted.suppressed !== null) await this.#recordSuppressed(admitted.suppressed);
    await this.#deps.chain.append({
      event_type: 'message.rejected',
      ...auditedBy(ctx),
      rule_id: refusal.rule_id,
      data: {
        connector_id: connectorId,
        code: refusal.code,
        reason: refusal.reason,
        body_bytes: request.body.byteLength,
      },
    });
  }

  async #recordSuppressed(suppressed: SuppressedRefusals): Promise<void> {
    await this.#deps.chain.append({
      event_type: 'message.rejected',
      actor: 'host',
      rule_id: RULE_REFUSAL_AUDIT_LIMIT,
      data: {
        connector_id: suppressed.key,
        suppressed: suppressed.count,
        window_started_at: new Date(suppressed.since).toISOString(),
        reason: 'refusals past the audit limit were counted, not recorded one by one',
      },
    });
  }
}
