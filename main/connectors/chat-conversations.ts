import { sql } from 'kysely';
import type {
  ChatConversation,
  ChatConversationQuery,
  ChatInboundMessage,
  ChatMessage,
} from '../../contracts/chat.ts';
import { labelAtomSchema } from '../../contracts/labels.ts';
import { messageEnvelopeSchema } from '../../contracts/message-envelope.ts';
import { outboxStateSchema } from '../../contracts/outbox.ts';
import type { ActorContext } from '../actor-context.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { AppError } from '../errors.ts';
import { contentOfRow } from '../outbox/outbox-rows.ts';
import type { QuarantineStore } from '../quarantine/quarantine-store.ts';
import type { ConnectorConnectionsTable } from '../store/schema.ts';
import type { AdapterConfigs } from './adapter-configs.ts';
import { decodeChatCursor, encodeChatCursor, isAfter, type ChatPosition } from './chat-cursor.ts';

/** `(column, id) > (at, id)`: the rows after a cursor, in the page order. */
function afterPosition(column: 'received_at' | 'created_at', after: ChatPosition) {
  const at = sql.ref(column);
  return sql<boolean>`(${at} > ${after.at} or (${at} = ${after.at} and id > ${after.id}))`;
}

/** A database JSON column is an edge: parsed, never trusted. */
const storedLabelSchema = labelAtomSchema.array();

/** Who reads the person's messages back, as the `quarantine.access` entry names it. */
export const CHAT_HISTORY_READER = 'ui.chat_history';

export type ChatConversationsDeps = {
  chain: CausalChain;
  configs: AdapterConfigs;
  quarantine: QuarantineStore;
};

type Connection = Pick<
  ConnectorConnectionsTable,
  'id' | 'channel_id' | 'session_id' | 'state' | 'approval_id'
>;

/**
 * A local chat channel's history for the Chat page: the person's messages (from
 * `connector_messages`, their text read back from the quarantine) and the replies queued to
 * the channel (outbox rows), merged oldest first. Only a `person` connector: a webhook's raw
 * text stays in the quarantine, readable by transforms alone.
 */
export class ChatConversations {
  readonly #deps: ChatConversationsDeps;

  constructor(deps: ChatConversationsDeps) {
    this.#deps = deps;
  }

  async read(
    channelId: string,
    query: ChatConversationQuery,
    ctx: ActorContext,
  ): Promise<ChatConversation> {
    const after = query.after === undefined ? undefined : decodeChatCursor(query.after);
    const config = await this.#deps.configs.get(query.connector);
    if (config.inbound_auth.mode !== 'person')
      throw new AppError('CONNECTOR_INVALID', `connector ${query.connector} is not a local chat`);
    // One transaction: the page and its quarantine.access entry are one fact.
    return this.#deps.chain.transact(async (tx) => {
      const connection = await tx.db
        .selectFrom('connector_connections')
        .select(['id', 'channel_id', 'session_id', 'state', 'approval_id'])
        .where('connector_id', '=', config.connector_id)
        .where('channel_id', '=', channelId)
        .executeTakeFirst();
      // Fetch one more than a page from each side: the merge then knows whether more follow.
      const fetch = query.limit + 1;
      const inbound =
        connection === undefined ? [] : await this.#inboundIn(tx, connection, after, fetch, ctx);
      const outbound = await this.#outboundIn(tx, config.connector_id, channelId, after, fetch);
      const merged = [...inbound, ...outbound].sort((a, b) =>
        isAfter(a, b) ? 1 : isAfter(b, a) ? -1 : 0,
      );
      const page = merged.slice(0, query.limit);
      const last = page.at(-1);
      return {
        connector_id: config.connector_id,
        channel_id: channelId,
        connection:
          connection === undefined
            ? null
            : { state: connection.state, approval_id: connection.approval_id },
        messages: page,
        next_cursor:
          merged.length > query.limit && last !== undefined
            ? encodeChatCursor({ at: last.at, id: last.id })
            : null,
      };
    });
  }

  async #inboundIn(
    tx: ChainTx,
    connection: Connection,
    after: ChatPosition | undefined,
    fetch: number,
    ctx: ActorContext,
  ): Promise<ChatMessage[]> {
    let q = tx.db
      .selectFrom('connector_messages')
      .select(['id', 'external_id', 'envelope', 'state', 'run_id', 'received_at'])
      // The connection is the channel: another channel's messages cannot match it.
      .where('connection_id', '=', connection.id);
    if (after !== undefined) q = q.where(afterPosition('received_at', after));
    const rows = await q.orderBy('received_at').orderBy('id').limit(fetch).execute();
    const envelopes = rows.map((r) => messageEnvelopeSchema.parse(JSON.parse(r.envelope)));
    const texts = await this.#deps.quarantine.readBackIn(tx, {
      session_id: connection.session_id,
      channel_id: connection.channel_id,
      content_refs: envelopes.map((e) => e.content_ref),
      capability_id: CHAT_HISTORY_READER,
      ctx,
    });
    const views = await this.#viewsIn(
      tx,
      envelopes.map((e) => e.content_ref),
    );
    return rows.map((row, i) => {
      const ref = envelopes[i]?.content_ref ?? '';
      const read = texts.get(ref);
      return {
        direction: 'inbound' as const,
        id: row.id,
        client_id: row.external_id,
        at: row.received_at,
        text: read !== undefined && 'content' in read ? read.content : null,
        text_gone: read !== undefined && 'gone' in read ? read.gone : null,
        seen_through: views.get(ref) ?? [],
        state: row.state,
        run_id: row.run_id,
      };
    });
  }

  /** What the agents were given instead of each message: its transform outputs, by pointer. */
  async #viewsIn(
    tx: ChainTx,
    refs: readonly string[],
  ): Promise<Map<string, ChatInboundMessage['seen_through']>> {
    const views = new Map<string, ChatInboundMessage['seen_through']>();
    if (refs.length === 0) return views;
    const rows = await tx.db
      .selectFrom('transform_outputs')
      .select(['source_ref', 'capability_id', 'label', 'run_id', 'created_at'])
      .where('source_ref', 'in', [...refs])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    for (const r of rows)
      views.set(r.source_ref, [
        ...(views.get(r.source_ref) ?? []),
        {
          capability_id: r.capability_id,
          label: storedLabelSchema.parse(JSON.parse(r.label)),
          run_id: r.run_id,
          at: r.created_at,
        },
      ]);
    return views;
  }

  async #outboundIn(
    tx: ChainTx,
    connectorId: string,
    channelId: string,
    after: ChatPosition | undefined,
    fetch: number,
  ): Promise<ChatMessage[]> {
    let q = tx.db
      .selectFrom('outbox')
      .select(['id', 'content', 'state', 'run_id', 'created_at'])
      .where('connector_id', '=', connectorId)
      .where('channel_id', '=', channelId);
    if (after !== undefined) q = q.where(afterPosition('created_at', after));
    const rows = await q.orderBy('created_at').orderBy('id').limit(fetch).execute();
    return rows.map((row) => {
      const content = contentOfRow(row);
      return {
        direction: 'outbound' as const,
        id: row.id,
        at: row.created_at,
        text: content.text,
        reply_to: content.reply_to ?? null,
        state: outboxStateSchema.parse(row.state),
        run_id: row.run_id,
      };
    });
  }
}
