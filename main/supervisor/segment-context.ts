import type { Logger } from 'pino';
import type { LlmLocation } from '../../contracts/llm.ts';
import type { LlmRetryPolicy } from '../../contracts/policy.ts';
import type { Run } from '../../contracts/runs.ts';
import type { LlmProvider } from '../agent/llm/llm-provider.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { ExecutePipeline } from '../execute/execute-pipeline.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import type { MemoryPolicy } from '../memory/memory-policy.ts';
import type { MemoryStore } from '../memory/memory-store.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { SkillRegistry } from '../skills/registry/skill-registry.ts';
import type { ApprovalService } from '../runs/approval-service.ts';
import type { BudgetMeter } from '../runs/budget-meter.ts';
import type { CheckpointStore } from '../runs/checkpoint-store.ts';
import type { PayloadStore } from '../runs/payload-store.ts';
import type { RunService } from '../runs/run-service.ts';
import type { SegmentQuotas } from '../runs/segment-quotas.ts';
import type { FollowUps } from '../scheduler/follow-ups.ts';
import type { HostControls } from '../runs/host-controls.ts';
import type { Db } from '../store/schema.ts';
import type { RunSteering } from '../runs/run-steering.ts';

export type RunSegmentDeps = {
  runs: RunService;
  chain: CausalChain;
  clock: Clock;
  meter: BudgetMeter;
  pipeline: ExecutePipeline;
  checkpoints: CheckpointStore;
  registry: SkillRegistry;
  redactor: Redactor;
  /** Governed memory: the run's agent reads and writes only through it. */
  memory: MemoryStore;
  /** Asks a person about a memory write the taint gate holds (issue 22). */
  approvals: ApprovalService;
  /** Where each LLM call's prompt and answer are kept; the chain names them by digest. */
  payloads: PayloadStore;
  llm: LlmProvider;
  /** What the LLM window is judged with (issue 22): see `SegmentLabelDeps`. */
  labels: SegmentLabelDeps;
  logger: Logger;
  /** Agent follow-ups (`ccos/schedule.resume`); absent, a worker cannot ask to resume later. */
  followUps?: FollowUps;
  /** The host-wide switch and daily token cap; absent in benches that drive a segment alone. */
  controls?: HostControls;
  /** A person's notes and interrupts (issue 24); absent, a segment has none to meet. */
  steering?: RunSteering;
};

/**
 * Labels and taint at `llm.complete` (issue 22): the store the run's step labels are read
 * from, the packs (LLM exposure, the taint gate), and where the provider is — a remote one
 * is an egress destination.
 */
export type SegmentLabelDeps = {
  db: Db;
  policies: PolicyPacks;
  llmLocation: LlmLocation;
};

/**
 * What the supervisor granted this segment, what it may store (the pack's quotas), and how
 * it retries a failed LLM call (the pack's).
 */
export type SegmentGrant = {
  index: number;
  max_steps: number;
  max_ms: number;
  quotas: SegmentQuotas;
  /** What the run's pack says about memory (shared namespaces, readable labels, lifetime). */
  memory: MemoryPolicy;
  llm_retry: LlmRetryPolicy;
};

/** What every part of one segment shares: its services, the run as granted, its grant. */
export type SegmentContext = {
  readonly deps: RunSegmentDeps;
  /** The run as granted: its id, session, goal and pack (never its usage, read fresh). */
  readonly run: Run;
  readonly grant: SegmentGrant;
  /** Who the chain names for what the worker does. */
  readonly actor: string;
};

/** The run, read inside `tx`; refused with SEGMENT_ENDED unless it is still running. */
export async function requireRunningIn(ctx: SegmentContext, tx: ChainTx): Promise<Run> {
  const run = await ctx.deps.runs.getIn(tx, ctx.run.id);
  if (run.state !== 'running')
    throw new AppError('SEGMENT_ENDED', `the run is ${run.state}, not running`);
  return run;
}
