import type { AgentIsolationStatus } from '../../../contracts/agent-isolation.ts';
import type { Principal } from '../../auth/token-service.ts';
import type { ApprovalService } from '../../runs/approval-service.ts';
import type { RunService } from '../../runs/run-service.ts';
import type { SessionService } from '../../runs/session-service.ts';
import type { CausalChain } from '../../chain/causal-chain.ts';
import type { TokenService } from '../../auth/token-service.ts';
import type { Logger } from 'pino';
import type { Redactor } from '../../policy/redactor.ts';
import type { SecretStore } from '../../policy/secret-store.ts';
import type { OnboardingService } from '../../skills/onboarding/onboarding-service.ts';
import type { SkillService } from '../../skills/install/skill-service.ts';
import type { ScheduleService } from '../../scheduler/schedule-service.ts';
import type { ConnectorRecords } from '../../connectors/connector-records.ts';

/** Per-request values set by the gateway's middleware. */
export type GatewayEnv = {
  Variables: {
    correlationId: string;
    /** Set by the auth middleware on every route that needs a token. */
    principal: Principal;
  };
};

/** The services the HTTP edge calls; it never reaches past them to the store. */
export type GatewayDeps = {
  /** How agent workers are confined (reported by `GET /v1/health`). */
  agents: AgentIsolationStatus;
  runs: RunService;
  sessions: SessionService;
  approvals: ApprovalService;
  tokens: TokenService;
  chain: CausalChain;
  secrets: SecretStore;
  /** Decides which caller-chosen values may be kept (a correlation id holding a secret is not). */
  redactor: Redactor;
  skills: SkillService;
  onboarding: OnboardingService;
  schedules: ScheduleService;
  connectors: ConnectorRecords;
  logger: Logger;
  version: string;
  startedAt: number;
  /** Largest accepted request body, bytes. */
  maxBodyBytes: number;
  /** SSE keep-alive comment interval. */
  keepAliveMs: number;
  /** The gateway listens beyond loopback (`--allow-non-loopback`): any Host name is accepted. */
  allowAnyHost?: boolean;
  /** Where to note (operation, status) pairs answered (diagnostics); null for nowhere. */
  statusLogDir?: string | null;
};
