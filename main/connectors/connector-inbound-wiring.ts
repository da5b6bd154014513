import type {
  AdapterConfig,
  AdapterKind,
  ConnectorAdapter,
  ConnectorHealth,
  OutboundQueue,
} from '../../contracts/connector-adapter.ts';
import type { ActorContext } from '../actor-context.ts';
import { selfTest, type SelfTestCheck } from './adapter-self-test.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { Disposable } from '../disposable.ts';
import type { SecretStore } from '../policy/secret-store.ts';
import type { QuarantineStore } from '../quarantine/quarantine-store.ts';
import type { ApprovalService } from '../runs/approval-service.ts';
import { HostHeldRuns } from '../runs/host-held-runs.ts';
import type { RunService } from '../runs/run-service.ts';
import type { SessionService } from '../runs/session-service.ts';
import type { Db } from '../store/schema.ts';
import type { AdapterConfigs } from './adapter-configs.ts';
import { ChatConversations } from './chat-conversations.ts';
import { localChatAdapter } from './local-chat-adapter.ts';
import { webhookAdapter } from './webhook-adapter.ts';
import { ChannelConnections } from './channel-connections.ts';
import { ConnectorInbound } from './connector-inbound.ts';
import type { ConnectorRecords } from './connector-records.ts';
import { InboundRouting } from './inbound-routing.ts';
import type { RunSteering } from '../runs/run-steering.ts';

export type InboundConnectorsDeps = {
  db: Db;
  chain: CausalChain;
  clock: Clock;
  secrets: SecretStore;
  quarantine: QuarantineStore;
  runs: RunService;
  sessions: SessionService;
  approvals: ApprovalService;
  records: ConnectorRecords;
  /** The adapter configurations; the outbox reads the same ones (a webhook's outbound URL). */
  configs: AdapterConfigs;
  /** Where adapters' `send` hands messages: the outbox (issue 23). */
  outbound: OutboundQueue;
  /** Tells an active run's agent of its session's next message (an arrival note). */
  steering: RunSteering;
};

/** What the inbound half offers the gateway and the CLI's routes. */
export type InboundConnectors = Disposable & {
  configs: AdapterConfigs;
  connections: ChannelConnections;
  inbound: ConnectorInbound;
  /** A local chat channel's history for the Chat page (issue 24). */
  conversations: ChatConversations;
  adapters: Readonly<Record<AdapterKind, ConnectorAdapter>>;
  /** `configs.set`, then the adapter serves the connector. */
  configure: (
    connectorId: string,
    input: unknown,
    ctx: ActorContext,
    options?: { rotate?: boolean },
  ) => Promise<{ config: AdapterConfig; secret: string | null }>;
  health: (config: AdapterConfig) => Promise<ConnectorHealth>;
  selfTest: (connectorId: string) => Promise<{ health: ConnectorHealth; checks: SelfTestCheck[] }>;
};

/**
 * Builds the inbound connector services, connects every configured connector to its adapter
 * and registers the `channel` approval's effect.
 */
export async function createInboundConnectors(
  deps: InboundConnectorsDeps,
): Promise<InboundConnectors> {
  const { outbound, configs } = deps;
  const adapters = { webhook: webhookAdapter(outbound), local_chat: localChatAdapter(outbound) };
  const connections = new ChannelConnections({
    db: deps.db,
    clock: deps.clock,
    runs: deps.runs,
    approvals: deps.approvals,
    heldRuns: new HostHeldRuns({ runs: deps.runs }),
  });
  const inbound = new ConnectorInbound({
    db: deps.db,
    chain: deps.chain,
    clock: deps.clock,
    configs,
    connections,
    routing: new InboundRouting({
      runs: deps.runs,
      sessions: deps.sessions,
      records: deps.records,
      steering: deps.steering,
    }),
    quarantine: deps.quarantine,
    adapters,
  });
  const effect = deps.approvals.registerDecisionEffect('channel', (tx, approval, ctx) =>
    inbound.onChannelDecisionIn(tx, approval, ctx),
  );
  for (const config of await configs.load()) await adapters[config.adapter].connect(config);
  const health = async (config: AdapterConfig): Promise<ConnectorHealth> => {
    // A sender's proof cannot pass without its secret (deleted from the secret store by
    // hand): that is an auth failure to show, not the healthy adapter's word. Names only,
    // so checking health never reads a secret's value.
    if (config.secret_name !== null && !(await deps.secrets.names()).includes(config.secret_name))
      return {
        ok: false,
        category: 'auth',
        detail: `its secret ${config.secret_name} is missing from the secret store`,
      };
    return adapters[config.adapter].health(config.connector_id);
  };
  return {
    configs,
    connections,
    inbound,
    conversations: new ChatConversations({
      chain: deps.chain,
      configs,
      quarantine: deps.quarantine,
    }),
    adapters,
    configure: async (connectorId, input, ctx, options) => {
      const result = await configs.set(connectorId, input, ctx, options);
      await adapters[result.config.adapter].connect(result.config);
      return result;
    },
    health,
    selfTest: async (connectorId) => {
      const config = await configs.get(connectorId);
      const secret = await configs.secretOf(config);
      return {
        health: await health(config),
        checks: selfTest(adapters[config.adapter], config, secret, deps.clock.now()),
      };
    },
    dispose: async () => {
      await inbound.flushRefusalCounts();
      await effect.dispose();
      for (const adapter of Object.values(adapters)) await adapter.disconnect();
    },
  };
}
