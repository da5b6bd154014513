import type { Logger } from 'pino';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { AdapterConfigs } from '../connectors/adapter-configs.ts';
import type { DeliveryTransport, DeliveryTransports } from '../outbox/delivery-transport.ts';
import { OutboxDispatcher } from '../outbox/dispatcher.ts';
import { LocalChatTransport } from '../outbox/local-chat-transport.ts';
import { outboxQueue } from '../outbox/outbox-queue.ts';
import { DEFAULT_OUTBOX_SETTINGS, OutboxService } from '../outbox/outbox-service.ts';
import { WebhookTransport } from '../outbox/webhook-transport.ts';
import { DEFAULT_POLICY_PACK, type PolicyPacks } from '../policy/policy-packs.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { WakeTimer } from '../scheduler/wake-timer.ts';
import type { Db } from '../store/schema.ts';
import type { OutboundQueue } from '../../contracts/connector-adapter.ts';

/** How long one webhook attempt may take before it counts as a timeout. */
export const WEBHOOK_TIMEOUT_MS = 15_000;
/**
 * How long a claim holds a row: well past the transport's timeout, so a slow attempt's row is
 * never taken over (and sent a second time) by another host while the first still waits.
 */
export const OUTBOX_LEASE_MS = 4 * WEBHOOK_TIMEOUT_MS;

export type OutboxParts = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  redactor: Redactor;
  logger: Logger;
  policies: PolicyPacks;
  /** Connectors' adapter configurations: which adapter sends, and a webhook's outbound URL. */
  configs: AdapterConfigs;
  /** Plain http only to loopback, and only when the host allows it for skills. */
  allowLoopbackHttp: boolean;
  /** The dispatcher's one real timer (tests pass one they fire by hand). */
  timer: WakeTimer;
  /** Who the chain names for sends no run asked for. */
  actor: string;
};

export type HostOutbox = {
  /** Queues in a step's transaction: the pipeline's `ccos__send_message`. */
  service: OutboxService;
  /** Delivers; started after the connectors' configurations are loaded, disposed at stop. */
  dispatcher: OutboxDispatcher;
  /** The connector adapters' `send`. */
  queue: OutboundQueue;
};

/**
 * The outbox as the host runs it (issue 23): the service the pipeline and the adapters queue
 * through, the dispatcher that delivers, and each connector's transport chosen by its adapter
 * configuration: a webhook POSTs to its `outbound_url`, the local chat publishes on the event
 * stream. A connector with no transport (a webhook without `outbound_url`, an unknown
 * connector) cannot send: the gate refuses with `egress.channel` before anything is queued.
 */
export function buildOutbox(parts: OutboxParts): HostOutbox {
  const { configs, clock } = parts;
  const webhook = new WebhookTransport({
    urlFor: (connectorId) => configs.known(connectorId)?.outbound_url,
    allowLoopbackHttp: parts.allowLoopbackHttp,
    timeoutMs: WEBHOOK_TIMEOUT_MS,
    clock,
  });
  const localChat = new LocalChatTransport({ chain: parts.chain });
  const transports: DeliveryTransports = (connectorId): DeliveryTransport | undefined => {
    const config = configs.known(connectorId);
    if (config === undefined) return undefined;
    switch (config.adapter) {
      case 'webhook':
        return config.outbound_url === undefined ? undefined : webhook;
      case 'local_chat':
        return localChat;
    }
  };
  const dispatcher = new OutboxDispatcher({
    db: parts.db,
    chain: parts.chain,
    clock,
    timer: parts.timer,
    // Full jitter needs a uniform draw; spreading retries is its only use, so Math.random serves.
    jitter: Math.random,
    transports,
    redactor: parts.redactor,
    logger: parts.logger,
    settings: {
      base_delay_ms: DEFAULT_OUTBOX_SETTINGS.base_delay_ms,
      max_delay_ms: DEFAULT_OUTBOX_SETTINGS.max_delay_ms,
      lease_ms: OUTBOX_LEASE_MS,
    },
    // The host opened the store under the data dir's lock (soak, issue 23).
    soleWriter: true,
  });
  const service = new OutboxService({
    clock,
    redactor: parts.redactor,
    transports,
    queued: () => {
      dispatcher.poke();
    },
  });
  const queue = outboxQueue({
    chain: parts.chain,
    outbox: service,
    actor: parts.actor,
    maxAttempts:
      parts.policies.get(DEFAULT_POLICY_PACK.id).outbox_max_attempts ??
      DEFAULT_OUTBOX_SETTINGS.max_attempts,
  });
  return { service, dispatcher, queue };
}
