import {
  CONNECTOR_ADAPTER_VERSION,
  type ConnectorAdapter,
  type ConnectorHealth,
  type OutboundQueue,
} from '../../contracts/connector-adapter.ts';
import { activationOf } from './activation.ts';
import { verifyBearer, verifyHmac, RULE_MISSING_PROOF } from './inbound-auth.ts';
import { envelopeOf, parseRawMessage } from './raw-message.ts';

/**
 * The generic webhook connector: inbound `POST /v1/connectors/{id}/inbound` with an HMAC
 * signature or a bearer token; outbound is the outbox's HTTP POST (issue 23, outbound half),
 * reached through `outbound`. Everything it receives is `untrusted`.
 */
export function webhookAdapter(outbound: OutboundQueue): ConnectorAdapter {
  const connected = new Set<string>();
  return {
    kind: 'webhook',
    version: CONNECTOR_ADAPTER_VERSION,
    connect: (config) => {
      connected.add(config.connector_id);
      return Promise.resolve();
    },
    disconnect: () => {
      connected.clear();
      return Promise.resolve();
    },
    health: (connectorId): Promise<ConnectorHealth> =>
      Promise.resolve(
        connected.has(connectorId)
          ? { ok: true, category: null, detail: null }
          : { ok: false, category: 'invalid', detail: 'not connected: configure its adapter' },
      ),
    authenticate: (request, config, secret) => {
      const auth = config.inbound_auth;
      if (secret === null || auth.mode === 'person')
        // A webhook always needs a proof of its own; without a secret nothing is accepted.
        return { ok: false, rule_id: RULE_MISSING_PROOF, reason: 'no inbound secret configured' };
      return auth.mode === 'hmac'
        ? verifyHmac(request, secret, auth.replay_window_ms)
        : verifyBearer(request, secret);
    },
    parse: parseRawMessage,
    activation: activationOf,
    normalize: (message, parts) => envelopeOf(message, parts, 'untrusted'),
    send: (message) => outbound.enqueue(message),
  };
}
