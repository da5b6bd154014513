import type { OutboundContent } from '../../../contracts/outbox.ts';
import type { RunSteering } from '../../runs/run-steering.ts';
import type { AgentIsolationStatus } from '../../../contracts/agent-isolation.ts';
import type { Principal } from '../../auth/token-service.ts';
import type { GrantService } from '../../runs/grant-service.ts';
import type { ApprovalService } from '../../runs/approval-service.ts';
import type { HostControls } from '../../runs/host-controls.ts';
import type { RunService } from '../../runs/run-service.ts';
import type { PayloadStore } from '../../runs/payload-store.ts';
import type { SessionService } from '../../runs/session-service.ts';
import type { CausalChain } from '../../chain/causal-chain.ts';
import type { ChainHeads } from '../../chain/chain-heads.ts';
import type { TokenService } from '../../auth/token-service.ts';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.ts';
import type { MemoryAdmin } from '../../memory/memory-admin.ts';
import type { Redactor } from '../../policy/redactor.ts';
import type { SecretStore } from '../../policy/secret-store.ts';
import type { OnboardingService } from '../../skills/onboarding/onboarding-service.ts';
import type { SkillService } from '../../skills/install/skill-service.ts';
import type { ScheduleService } from '../../scheduler/schedule-service.ts';
import type { UiSession, UiSessions } from './ui-sessions.ts';
import type { HostInfo, LlmTestResult } from '../../../contracts/ui.ts';
import type { ContinueRunInput, Run } from '../../../contracts/runs.ts';
import type { ActorContext } from '../../actor-context.ts';
import type { ConnectorRecords } from '../../connectors/connector-records.ts';
import type { PolicyPacks } from '../../policy/policy-packs.ts';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { SkillOperation } from '../../../contracts/skills.ts';
import type { OutputLabels } from '../../skills/manifest/output-labels.ts';
import type { ExecuteCall } from '../../execute/execute-pipeline.ts';
import type { ExternalRuns } from '../../runs/external-run.ts';
// --- inbound connectors (issue 23) ---
import type { InboundConnectors } from '../../connectors/connector-inbound-wiring.ts';
// --- outbox admin (issue 23) ---
import type { OutboxAdmin } from '../../outbox/outbox-admin.ts';

/** Per-request values set by the gateway's middleware. */
export type GatewayEnv = {
  Variables: {
    correlationId: string;
    /** Set by the auth middleware on every route that needs a token. */
    principal: Principal;
    /** Set when the request was authenticated by the UI's session cookie, not a token. */
    uiSession: UiSession | undefined;
  };
};

/** The services the HTTP edge calls; it never reaches past them to the store. */
export type GatewayDeps = {
  /** How agent workers are confined (reported by `GET /v1/health`). */
  agents: AgentIsolationStatus;
  /** The host-wide kill switch and caps (`/v1/agents`). */
  controls: HostControls;
  runs: RunService;
  sessions: SessionService;
  approvals: ApprovalService;
  grants: GrantService;
  tokens: TokenService;
  chain: CausalChain;
  chainHeads: ChainHeads;
  secrets: SecretStore;
  /** Decides which caller-chosen values may be kept (a correlation id holding a secret is not). */
  redactor: Redactor;
  skills: SkillService;
  onboarding: OnboardingService;
  /** Runs' payloads: the transcript and its purge. */
  payloads: PayloadStore;
  /** A person's notes to a run's agent and interrupts (issue 24). */
  steering: RunSteering;
  schedules: ScheduleService;
  connectors: ConnectorRecords;
  // --- inbound connectors (issue 23) ---
  /** Connector adapters, channel connections and inbound messages; absent, those routes 404. */
  inboundConnectors?: InboundConnectors;
  // --- outbox wiring (issue 23) ---
  /** The text of a published local chat message (`message.outbound`), read from its outbox row. */
  outboundContent?: (outboxId: string) => Promise<OutboundContent | undefined>;
  /** The packs runs are held to (`/v1/policies`). */
  policies: PolicyPacks;
  /** Governed memory as the person sees it (`/v1/memory`); absent, those routes answer 404. */
  memoryAdmin?: MemoryAdmin;
  // --- outbox admin (issue 23) ---
  /** The outbox as the person sees it (`/v1/outbox`); absent, those routes answer 404. */
  outboxAdmin?: OutboxAdmin;
  logger: Logger;
  version: string;
  startedAt: number;
  /** Largest accepted request body, bytes. */
  maxBodyBytes: number;
  /** SSE keep-alive comment interval. */
  keepAliveMs: number;
  /** Token expiry is judged by it (tests pin it); the system clock when absent. */
  clock?: Clock;
  /** The gateway listens beyond loopback (`--allow-non-loopback`): any Host name is accepted. */
  allowAnyHost?: boolean;
  /** Continues an ended run as a new one from its last checkpoint (main/runs/continue-run.ts). */
  continueRun?: (parentId: string, input: ContinueRunInput, ctx: ActorContext) => Promise<Run>;
  /** The host's settings as Settings shows them, and its LLM test (null: no provider). */
  host?: { info: () => HostInfo; testLlm: () => Promise<LlmTestResult | null> };
  /** Browser sessions of the UI; without it only bearer tokens authenticate. */
  uiSessions?: UiSessions;
  /** The built renderer (index.html and assets/) the gateway serves; null serves no UI. */
  rendererDir?: string | null;
  /** Where to note (operation, status) pairs answered (diagnostics); null for nowhere. */
  statusLogDir?: string | null;
  /** What `/mcp` needs to run tools (issue 25); without it `tools/call` is not served. */
  mcp?: {
    /** The execute pipeline: the same door the agent channel uses. */
    pipeline: { execute: (call: ExecuteCall) => Promise<ToolCallOutcome> };
    externalRuns: ExternalRuns;
    policies: PolicyPacks;
    /** The installed operation a tool names, if any. */
    operationOf: (tool: string) => SkillOperation | undefined;
    /** What an outcome of a tool carries, as its step records it (issue 22); undefined: unknown. */
    labelsOf: (tool: string, outcome: ToolCallOutcome) => OutputLabels | undefined;
  };
};
