import type {
  AgentSessionInfo,
  CompleteReply,
  MemoryGetReply,
  MemoryListReply,
  MemoryPutParams,
  MemoryPutReply,
  LlmCompleteReply,
  ToolCallOutcome,
} from '../../contracts/agent-channel.ts';
import type { LlmCompleteRequest } from '../../contracts/llm.ts';
import { goalSchema, type Run } from '../../contracts/runs.ts';
import type { FollowUpReply, FollowUpRequest } from '../../contracts/schedules.ts';
import type { ToolDefinition } from '../../contracts/skills.ts';
import type { AgentChannelHandlers } from '../agent/channel/agent-channel-handlers.ts';
import { newId } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { LlmBackoff } from './llm-failure.ts';
import { NoteHandoff } from './note-handoff.ts';
import { offeredToolsOf } from './offered-tools.ts';
import type { RunSegmentDeps, SegmentContext, SegmentGrant } from './segment-context.ts';
import { SegmentCheckpoints } from './segment-checkpoints.ts';
import { claimComplete } from './segment-completion.ts';
import { SegmentLlmCall } from './segment-llm-call.ts';
import { SegmentMemory } from './segment-memory.ts';
import { StepGate } from './step-gate.ts';
import { withCarriedLabels } from './carried-labels.ts';
import { callStepId } from './call-step-id.ts';
import { callWindowOf } from './call-window-lookup.ts';

export type { RunSegmentDeps, SegmentGrant } from './segment-context.ts';

/**
 * The host side of one worker's channel for one segment (ARCHITECTURE.md §4, §8). Every
 * LLM and tool call is metered before it is allowed: the run must still be running, the
 * segment must have steps and time left, and the budget must hold — otherwise the call is
 * refused with SEGMENT_ENDED or BUDGET_EXCEEDED (after the pack's decision was applied).
 */
export class RunSegment implements AgentChannelHandlers {
  readonly #ctx: SegmentContext;
  readonly #gate: StepGate;
  readonly #llm: SegmentLlmCall;
  readonly #checkpoints: SegmentCheckpoints;
  readonly #memory: SegmentMemory;

  constructor(deps: RunSegmentDeps, run: Run, grant: SegmentGrant, signal: AbortSignal) {
    this.#ctx = { deps, run, grant, actor: `agent:${run.id}` };
    this.#gate = new StepGate(this.#ctx);
    const notes = new NoteHandoff(this.#ctx);
    this.#llm = new SegmentLlmCall(this.#ctx, this.#gate, notes, signal);
    this.#checkpoints = new SegmentCheckpoints(this.#ctx, notes);
    this.#memory = new SegmentMemory(this.#ctx);
  }

  /** Steps this segment took; a segment that took none made no progress. */
  get steps(): number {
    return this.#gate.steps;
  }

  /**
   * Set when an LLM call failed transiently: the segment ended for it, and the run waits
   * until `until` before its next segment (not a worker fault: no retry is spent).
   */
  get llmBackoff(): LlmBackoff | undefined {
    return this.#llm.llmBackoff;
  }

  /** Active milliseconds so far. */
  elapsedMs(): number {
    return this.#gate.elapsedMs();
  }

  /**
   * The worker sent its first message. Its start-up (slow on a busy machine) is charged to
   * the run as active time but does not eat into the segment's own limit.
   */
  workerStarted(): void {
    this.#gate.workerStarted();
  }

  async sessionInfo(): Promise<AgentSessionInfo> {
    const { deps, grant } = this.#ctx;
    const run = await deps.runs.get(this.#ctx.run.id);
    const [goals, checkpoint, limits] = await Promise.all([
      deps.runs.goals(run.id),
      deps.checkpoints.latest(run.id),
      deps.chain.transact((tx) => deps.meter.limitsIn(tx, run)),
    ]);
    return {
      run_id: run.id,
      goal: deps.redactor.redactString(run.goal),
      goals: goals.map((g) => goalSchema.parse({ ...g, text: deps.redactor.redactString(g.text) })),
      checkpoint: checkpoint?.state ?? null,
      segment: {
        index: grant.index,
        max_steps: grant.max_steps,
        max_ms: grant.max_ms,
      },
      remaining: {
        steps: Math.max(0, limits.steps - run.usage.steps),
        tokens: Math.max(0, limits.tokens - run.usage.tokens),
      },
    };
  }

  listTools(): Promise<ToolDefinition[]> {
    const { deps, run } = this.#ctx;
    return offeredToolsOf(
      deps.labels.db,
      run,
      deps.labels.policies.forRun(run),
      deps.registry.tools(),
      deps.clock.now(),
    );
  }

  /**
   * A call with the LLM's call id gets a step id derived from (run, call id), so a worker
   * that re-issues it from its checkpoint after a crash reaches the same step and the
   * pipeline answers from the record instead of running it again. A re-issued call still
   * costs a step of the budget: it is a round trip the agent made, and the cost is bounded
   * by the retries a run may take.
   */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    options: { callId?: string } = {},
  ): Promise<ToolCallOutcome> {
    const { run, grant, actor } = this.#ctx;
    const { callId } = options;
    const window = await callWindowOf(this.#ctx.deps.labels.db, run.id, callId, name, args);
    // Metered inside the pipeline's own transactions: one commit less per step (issue 18).
    const outcome = await this.#ctx.deps.pipeline.execute({
      window,
      run,
      meter: this.#gate.toolMeter,
      step_id: callId === undefined ? newId('stp') : callStepId(run.id, callId),
      ...(callId === undefined ? {} : { call_id: callId }),
      segment: grant.index,
      tool: name,
      params: args,
      ctx: { actor },
    });
    return withCarriedLabels(this.#ctx.deps.registry, name, outcome);
  }

  /** See SegmentLlmCall: one call at a time, each authorised as a step. */
  llmComplete(request: LlmCompleteRequest): Promise<LlmCompleteReply> {
    return this.#llm.complete(request);
  }

  checkpoint(state: unknown): Promise<{ checkpoint_id: number }> {
    return this.#checkpoints.save(state);
  }

  complete(summary: string | undefined): Promise<CompleteReply> {
    return claimComplete(this.#ctx, this.#gate, summary);
  }

  memoryGet(key: string, namespace: string | undefined, callId?: string): Promise<MemoryGetReply> {
    return this.#memory.get(key, namespace, callId);
  }

  memoryPut(params: MemoryPutParams): Promise<MemoryPutReply> {
    return this.#memory.put(params);
  }

  memoryList(
    namespace: string | undefined,
    prefix: string | undefined,
    callId?: string,
  ): Promise<MemoryListReply> {
    return this.#memory.list(namespace, prefix, callId);
  }

  /** Checkpoints `request.state`, pauses the run and schedules its resume, in one transaction. */
  resumeLater(request: FollowUpRequest): Promise<FollowUpReply> {
    const followUps = this.#ctx.deps.followUps;
    if (followUps === undefined) {
      return Promise.reject(
        new AppError(
          'INVALID_INPUT',
          'this host has no scheduler: a run cannot ask to resume later',
        ),
      );
    }
    return followUps.request(
      this.#ctx.run.id,
      this.#ctx.grant.index,
      request,
      this.#ctx.actor,
      this.#ctx.grant.quotas.checkpoints_kept,
    );
  }

  /** Active time not yet charged to the run's wall-clock usage; taking it marks it charged. */
  takeUncharged(): number {
    return this.#gate.takeUncharged();
  }
}

/** Re-exported: tests and the pipeline's callers name call steps through this module. */
export { callStepId } from './call-step-id.ts';
