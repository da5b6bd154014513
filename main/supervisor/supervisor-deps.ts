import type { Logger } from 'pino';
import type { LlmProvider } from '../agent/llm/llm-provider.ts';
import type { Spawner } from '../agent/spawn/spawner.ts';
import type { TokenService } from '../auth/token-service.ts';
import type { CausalChain } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { Db } from '../store/schema.ts';
import type { BudgetMeter } from '../runs/budget-meter.ts';
import type { HostControls } from '../runs/host-controls.ts';
import type { RunService } from '../runs/run-service.ts';
import type { RunSegmentDeps } from './segment-context.ts';
import type { WorkerPool } from './worker-pool.ts';

export type SupervisorDeps = {
  db: Db;
  runs: RunService;
  chain: CausalChain;
  clock: Clock;
  logger: Logger;
  tokens: TokenService;
  meter: BudgetMeter;
  policies: PolicyPacks;
  spawner: Spawner;
  /** Where each segment takes its worker from (pre-started ones, or started on demand). */
  workers: WorkerPool;
  /** The LLM a run's worker talks to through the gateway; one per run (a replay keeps its place). */
  llmFor: (runId: string) => LlmProvider;
  segmentDeps: Omit<RunSegmentDeps, 'llm'>;
  /** The host-wide switch and caps (`ccos agents …`); they also set how many segments run at once. */
  controls: HostControls;
  /** Extra time past a segment's limit before a worker that has not exited is killed. */
  exitGraceMs: number;
};

/** Who the chain names for what the supervisor decides. */
export const SUPERVISOR_ACTOR = 'supervisor';
