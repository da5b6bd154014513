import {
  CONNECTOR_ADAPTER_VERSION,
  type ConnectorAdapter,
  type OutboundQueue,
} from '../../contracts/connector-adapter.ts';
import { activationOf } from './activation.ts';
import { RULE_MISSING_PROOF } from './inbound-auth.ts';
import { envelopeOf, parseRawMessage } from './raw-message.ts';

/**
 * The local chat connector the desktop UI's chat panel uses. Its sender is the person, proven
 * by the gateway's admin authentication before a message reaches it, so its messages are
 * `trusted` for integrity; they are still `pii.chat.message` and quarantined like any
 * channel's, so one set of rules holds. Outbound goes back to the UI over SSE (the outbox's).
 */
export function localChatAdapter(outbound: OutboundQueue): ConnectorAdapter {
  return {
    kind: 'local_chat',
    version: CONNECTOR_ADAPTER_VERSION,
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    health: () => Promise.resolve({ ok: true, category: null, detail: null }),
    // The host skips this for the messages the chat route hands over (the gateway already
    // authenticated the admin); a request off the network for this connector is refused.
    authenticate: () => ({
      ok: false,
      rule_id: RULE_MISSING_PROOF,
      reason: 'the local chat takes messages only from the person, through POST /v1/chat/messages',
    }),
    parse: parseRawMessage,
    activation: activationOf,
    normalize: (message, parts) => envelopeOf(message, parts, 'trusted'),
    send: (message) => outbound.enqueue(message),
  };
}
