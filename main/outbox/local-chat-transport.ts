import type { OutboundContent } from '../../contracts/outbox.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Db } from '../store/schema.ts';
import type { DeliveryResult } from './delivery-result.ts';
import type { DeliveryTarget, DeliveryTransport, OutboundDelivery } from './delivery-transport.ts';
import { contentOfRow } from './outbox-rows.ts';
import { contentSha256 } from './outbox-store.ts';

/** What the audit names as the destination: the gateway's event stream, not a network host. */
export const LOCAL_CHAT_TARGET = { url: 'ccos-events:/v1/events', method: 'PUBLISH' } as const;

const SENDER_ACTOR = 'host.outbox';

export type LocalChatTransportDeps = { chain: CausalChain };

/**
 * The local chat connector's outbound half: a message is published as a `message.outbound`
 * chain entry, which the event stream (`GET /v1/events`) carries to the sessions allowed to
 * see that connector's messages — an admin (the UI) and that connector's own token. Publishing
 * is delivery: the entry is durable, and a UI that was not connected gets it on reconnect by
 * `Last-Event-ID`. The entry holds ids and a digest, never the text: the stream joins the
 * text from the outbox row as it sends the frame, so the chain keeps no message content.
 */
export class LocalChatTransport implements DeliveryTransport {
  /** The person reads it in this machine's UI. */
  readonly onMachine = true;
  readonly #deps: LocalChatTransportDeps;

  constructor(deps: LocalChatTransportDeps) {
    this.#deps = deps;
  }

  target(): DeliveryTarget {
    return { ok: true, ...LOCAL_CHAT_TARGET };
  }

  async deliver(delivery: OutboundDelivery, signal: AbortSignal): Promise<DeliveryResult> {
    if (signal.aborted)
      return { ok: false, category: 'network', status: null, message: 'the host is stopping' };
    try {
      await this.#deps.chain.append({
        event_type: 'message.outbound',
        actor: SENDER_ACTOR,
        session_id: delivery.session_id ?? null,
        run_id: delivery.run_id ?? null,
        correlation_id: delivery.id,
        capability_id: `connector:${delivery.connector_id}`,
        data: {
          outbox_id: delivery.id,
          connector_id: delivery.connector_id,
          channel_id: delivery.channel_id,
          // The receiver dedupes on it: a host dying between publishing and settling publishes again.
          idempotency_key: delivery.idempotency_key,
          attempt: delivery.attempt,
          content_sha256: contentSha256(delivery.content),
        },
      });
      return { ok: true, status: null };
    } catch {
      return {
        ok: false,
        category: 'server',
        status: null,
        message: 'the message could not be published',
      };
    }
  }
}

/**
 * The content a `message.outbound` frame carries, read from its outbox row (redacted when it
 * was queued); undefined once the row has been pruned.
 */
export async function publishedContentOf(
  db: Db,
  outboxId: string,
): Promise<OutboundContent | undefined> {
  const row = await db
    .selectFrom('outbox')
    .select('content')
    .where('id', '=', outboxId)
    .executeTakeFirst();
  return row === undefined ? undefined : contentOfRow(row);
}
