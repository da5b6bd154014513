import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type {
  AgentSessionInfo,
  CompleteReply,
  ToolCallOutcome,
} from '../../contracts/agent-channel.ts';
import type { LlmCompleteRequest, LlmCompleteResult } from '../../contracts/llm.ts';
import type { LlmRetryPolicy } from '../../contracts/policy.ts';
import { goalSchema, type Run } from '../../contracts/runs.ts';
import type { FollowUpReply, FollowUpRequest } from '../../contracts/schedules.ts';
import type { ToolDefinition } from '../../contracts/skills.ts';
import type { AgentChannelHandlers } from '../agent/channel/agent-channel-handlers.ts';
import { estimateRequestTokens } from '../agent/llm/estimate-usage.ts';
import type { LlmProvider } from '../agent/llm/llm-provider.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { StepMeter } from '../execute/call-meter.ts';
import type { ExecutePipeline } from '../execute/execute-pipeline.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { SkillRegistry } from '../skills/registry/skill-registry.ts';
import type { BudgetMeter } from '../runs/budget-meter.ts';
import type { CheckpointStore } from '../runs/checkpoint-store.ts';
import type { PayloadStore } from '../runs/payload-store.ts';
import {
  lastFailedToolCallIn,
  readCompletionFacts,
  runMemoryNamespace,
  unmetGoals,
  type FailedToolCall,
} from '../runs/completion-check.ts';
import type { RunService } from '../runs/run-service.ts';
import { quotaExceeded, type SegmentQuotas } from '../runs/segment-quotas.ts';
import { isTerminal } from '../runs/transitions.ts';
import { TaskLimit } from '../task-limit.ts';
import type { FollowUps } from '../scheduler/follow-ups.ts';
import type { HostControls } from '../runs/host-controls.ts';
import type { RunSteering } from '../runs/run-steering.ts';
import { notesMayFollow } from './note-placement.ts';
import type { DeliveredNote } from '../../contracts/steering.ts';
import type { LlmCompleteReply } from '../../contracts/agent-channel.ts';
import { classifyLlmFailure, recordLlmFailureIn, type LlmBackoff } from './llm-failure.ts';

export type RunSegmentDeps = {
  runs: RunService;
  chain: CausalChain;
  clock: Clock;
  meter: BudgetMeter;
  pipeline: ExecutePipeline;
  checkpoints: CheckpointStore;
  registry: SkillRegistry;
  redactor: Redactor;
  /** Where each LLM call's prompt and answer are kept; the chain names them by digest. */
  payloads: PayloadStore;
  llm: LlmProvider;
  logger: Logger;
  /** Agent follow-ups (`ccos/schedule.resume`); absent, a worker cannot ask to resume later. */
  followUps?: FollowUps;
  /** The host-wide switch and daily token cap; absent in benches that drive a segment alone. */
  controls?: HostControls;
  /** A person's notes and interrupts (issue 24); absent, a segment has none to meet. */
  steering?: RunSteering;
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
  llm_retry: LlmRetryPolicy;
};

/**
 * The host side of one worker's channel for one segment (ARCHITECTURE.md §4, §8). Every
 * LLM and tool call is metered before it is allowed: the run must still be running, the
 * segment must have steps and time left, and the budget must hold — otherwise the call is
 * refused with SEGMENT_ENDED or BUDGET_EXCEEDED (after the pack's decision was applied).
 */
export class RunSegment implements AgentChannelHandlers {
  readonly #deps: RunSegmentDeps;
  readonly #runId: string;
  readonly #grant: SegmentGrant;
  /** When the segment was granted: active time is charged from here. */
  readonly #startedAt: number;
  /** When the worker first spoke: the segment's own time limit runs from here. */
  #helloAt: number | undefined;
  readonly #signal: AbortSignal;
  readonly #actor: string;
  #steps = 0;
  /** Steps allowed but not yet charged (a pure tool call charges its step when it ends). */
  #heldSteps = 0;
  /** The run as granted: its id, session, goal and pack (never its usage, read fresh). */
  readonly #run: Run;
  /** Active milliseconds already added to the run's usage. */
  #charged = 0;
  readonly #llmCalls = new TaskLimit(1);
  /** Checkpoints and memory writes this segment made, against its quotas. */
  #checkpoints = 0;
  #memoryPuts = 0;
  #llmBackoff: LlmBackoff | undefined;
  /** Notes handed to the worker with an LLM answer, delivered once it checkpoints them. */
  readonly #handedOut = new Set<string>();
  #awaitingCheckpoint: string[] = [];

  constructor(deps: RunSegmentDeps, run: Run, grant: SegmentGrant, signal: AbortSignal) {
    this.#deps = deps;
    this.#runId = run.id;
    this.#run = run;
    this.#grant = grant;
    this.#startedAt = deps.clock.now().getTime();
    this.#signal = signal;
    this.#actor = `agent:${run.id}`;
  }

  /** Steps this segment took; a segment that took none made no progress. */
  get steps(): number {
    return this.#steps;
  }

  /**
   * Set when an LLM call failed transiently: the segment ended for it, and the run waits
   * until `until` before its next segment (not a worker fault: no retry is spent).
   */
  get llmBackoff(): LlmBackoff | undefined {
    return this.#llmBackoff;
  }

  /** Active milliseconds so far. */
  elapsedMs(): number {
    return this.#deps.clock.now().getTime() - this.#startedAt;
  }

  /**
   * The worker sent its first message. Its start-up (slow on a busy machine) is charged to
   * the run as active time but does not eat into the segment's own limit.
   */
  workerStarted(): void {
    this.#helloAt ??= this.#deps.clock.now().getTime();
  }

  #segmentElapsedMs(): number {
    return this.#helloAt === undefined ? 0 : this.#deps.clock.now().getTime() - this.#helloAt;
  }

  async sessionInfo(): Promise<AgentSessionInfo> {
    const run = await this.#deps.runs.get(this.#runId);
    const [goals, checkpoint, limits] = await Promise.all([
      this.#deps.runs.goals(run.id),
      this.#deps.checkpoints.latest(run.id),
      this.#deps.chain.transact((tx) => this.#deps.meter.limitsIn(tx, run)),
    ]);
    return {
      run_id: run.id,
      goal: this.#deps.redactor.redactString(run.goal),
      goals: goals.map((g) =>
        goalSchema.parse({ ...g, text: this.#deps.redactor.redactString(g.text) }),
      ),
      checkpoint: checkpoint?.state ?? null,
      segment: {
        index: this.#grant.index,
        max_steps: this.#grant.max_steps,
        max_ms: this.#grant.max_ms,
      },
      remaining: {
        steps: Math.max(0, limits.steps - run.usage.steps),
        tokens: Math.max(0, limits.tokens - run.usage.tokens),
      },
    };
  }

  listTools(): Promise<ToolDefinition[]> {
    return Promise.resolve(this.#deps.registry.tools());
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
    const run = this.#run;
    const { callId } = options;
    // Metered inside the pipeline's own transactions: one commit less per step (issue 18).
    return this.#deps.pipeline.execute({
      run,
      meter: this.#toolMeter,
      step_id: callId === undefined ? newId('stp') : callStepId(run.id, callId),
      ...(callId === undefined ? {} : { call_id: callId }),
      segment: this.#grant.index,
      tool: name,
      params: args,
      ctx: { actor: this.#actor },
    });
  }

  /**
   * One LLM call at a time per segment (issue 17 #10): the channel dispatches a worker's
   * requests without waiting for earlier ones, and calls authorised side by side would all
   * pass the same token check. Queued, each is authorised against the usage every earlier
   * call has settled, so a run overspends by at most one call's misestimate.
   */
  llmComplete(request: LlmCompleteRequest): Promise<LlmCompleteReply> {
    return this.#llmCalls.run(() => this.#llmCompleteNow(request));
  }

  /** A person's waiting notes, as user messages after the request's last message (issue 24). */
  async #notesFor(request: LlmCompleteRequest): Promise<DeliveredNote[]> {
    const steering = this.#deps.steering;
    if (steering === undefined) return [];
    if (!notesMayFollow(request.messages)) return [];
    return this.#deps.chain.transact((tx) =>
      steering.waitingNotesIn(tx, this.#runId, this.#handedOut),
    );
  }

  async #llmCompleteNow(request: LlmCompleteRequest): Promise<LlmCompleteReply> {
    const notes = await this.#notesFor(request);
    const asked: LlmCompleteRequest =
      notes.length === 0
        ? request
        : {
            ...request,
            messages: [
              ...request.messages,
              ...notes.map((n) => ({ role: 'user' as const, content: n.message })),
            ],
          };
    // Nothing secret goes into a prompt, whatever the agent put in its conversation.
    const safe = this.#deps.redactor.redactValue(asked);
    // The prompt and at least one answer token must fit what is left of the budget. The
    // answer is then capped at the rest, rather than refusing every call whose requested cap
    // does not fit: a worker asks for up to 4096 tokens, so a smaller budget (or the last
    // 4096 tokens of any budget) could otherwise never be used.
    const prompt = estimateRequestTokens(safe);
    const { run, tokensLeft } = await this.#authorizeStep(prompt + 1);
    const maxOutput = Math.min(safe.max_output_tokens ?? Infinity, tokensLeft - prompt);
    const started = this.#deps.clock.now();
    let result: LlmCompleteResult;
    try {
      result = await this.#deps.llm.complete(
        { ...safe, max_output_tokens: maxOutput },
        { signal: this.#signal },
      );
    } catch (e) {
      throw await this.#llmFailed(run, started, e);
    }
    const tokens = result.usage.input_tokens + result.usage.output_tokens;
    this.#deps.controls?.chargeTokens(tokens);
    await this.#deps.chain.transact(async (tx) => {
      await this.#deps.meter.chargeIn(tx, run, {
        tokens,
        tokens_estimated: result.usage.estimated,
      });
      const stepId = newId('stp');
      await tx.db
        .insertInto('steps')
        .values({
          run_id: run.id,
          step_id: stepId,
          segment: this.#grant.index,
          kind: 'llm',
          summary: `${result.model}: ${result.stop_reason}, ${result.message.tool_calls.length} tool call(s)`,
          tokens,
          started_at: started.toISOString(),
          ended_at: this.#deps.clock.now().toISOString(),
          outcome: 'ok',
        })
        .execute();
      // Prompt and answer as payloads (redacted; tools by name: their schemas are the
      // registry's); the chain keeps their digests only.
      const about = { run_id: run.id, step_id: stepId, subject: result.model };
      const prompt = await this.#deps.payloads.recordIn(tx, {
        ...about,
        kind: 'llm.prompt',
        content: { ...safe, tools: (safe.tools ?? []).map((t) => t.name) },
      });
      const answer = await this.#deps.payloads.recordIn(tx, {
        ...about,
        kind: 'llm.answer',
        content: this.#deps.redactor.redactValue(result.message),
      });
      await tx.append({
        event_type: 'llm.call',
        actor: this.#actor,
        session_id: run.session_id,
        run_id: run.id,
        step_id: stepId,
        capability_id: this.#deps.llm.id,
        data: {
          model: result.model,
          stop_reason: result.stop_reason,
          usage: result.usage,
          tool_calls: result.message.tool_calls.map((c) => c.name),
          prompt,
          answer,
          ...(notes.length === 0 ? {} : { note_ids: notes.map((n) => n.id) }),
        },
      });
    });
    if (notes.length === 0) return result;
    for (const n of notes) this.#handedOut.add(n.id);
    this.#awaitingCheckpoint.push(...notes.map((n) => n.id));
    // Redacted as the model saw them, so the worker keeps exactly what was sent.
    return {
      ...result,
      notes: notes.map((n) => ({ id: n.id, message: this.#deps.redactor.redactString(n.message) })),
    };
  }

  /**
   * Judges a failed LLM call where the host made it (the worker only sees that its segment
   * ended): permanent failures fail the run now, transient ones end the segment with a
   * backoff the supervisor honours. Returns what the worker is answered.
   */
  async #llmFailed(run: Run, started: Date, e: unknown): Promise<unknown> {
    const verdict = classifyLlmFailure(e);
    if (verdict === undefined) return e;
    const backoff = await this.#deps.chain.transact(async (tx) => {
      const now = await this.#deps.runs.getIn(tx, run.id);
      // Cancelled or failed meanwhile: the abort caused this error, there is nothing to judge.
      if (now.state !== 'running') return undefined;
      return recordLlmFailureIn(
        tx,
        {
          runs: this.#deps.runs,
          redactor: this.#deps.redactor,
          logger: this.#deps.logger,
          providerId: this.#deps.llm.id,
          actor: this.#actor,
          policy: this.#grant.llm_retry,
          segment: this.#grant.index,
          started,
          now: this.#deps.clock.now(),
        },
        now,
        verdict,
      );
    });
    this.#llmBackoff = backoff;
    return new AppError(
      'SEGMENT_ENDED',
      backoff === undefined
        ? 'the LLM call failed and the run stopped: exit'
        : 'the LLM call failed; the run tries again later: checkpoint and exit',
    );
  }

  async checkpoint(state: unknown): Promise<{ checkpoint_id: number }> {
    const verdict = await this.#deps.chain.transact<
      { error: AppError } | { checkpoint_id: number }
    >(async (tx) => {
      const run = await this.#deps.runs.getIn(tx, this.#runId);
      if (isTerminal(run.state)) {
        throw new AppError(
          'SEGMENT_ENDED',
          `the run is ${run.state}; there is nothing to checkpoint for`,
        );
      }
      const { max_checkpoints: limit, checkpoints_kept: keep } = this.#grant.quotas;
      if (this.#checkpoints >= limit) {
        return {
          error: await this.#refuseIn(tx, run, 'checkpoints', { limit, used: this.#checkpoints }),
        };
      }
      const id = await this.#deps.checkpoints.saveIn(tx, {
        run_id: run.id,
        session_id: run.session_id,
        segment: this.#grant.index,
        state,
        actor: this.#actor,
        keep,
      });
      this.#checkpoints += 1;
      // Notes handed out before this checkpoint are in the state it saved: delivered, so a
      // crash from here on does not send them again, and one before it does.
      await this.#deps.steering?.markDeliveredIn(
        tx,
        run,
        this.#awaitingCheckpoint,
        this.#grant.index,
        this.#actor,
      );
      this.#awaitingCheckpoint = [];
      return { checkpoint_id: id };
    });
    if ('error' in verdict) throw verdict.error;
    return verdict;
  }

  async complete(summary: string | undefined): Promise<CompleteReply> {
    return this.#deps.chain.transact(async (tx) => {
      const run = await this.#requireRunning(tx);
      const goals = await this.#deps.runs.goalsIn(tx, run.id);
      const unmet = unmetGoals(goals, await readCompletionFacts(tx, run.id));
      if (unmet.length > 0) {
        await tx.append({
          event_type: 'policy.decision',
          actor: this.#actor,
          session_id: run.session_id,
          run_id: run.id,
          rule_id: 'completion.predicate',
          data: { decision: 'refused', claim: 'complete', unmet: unmet.map((g) => g.ordinal) },
        });
        return { accepted: false, unmet: unmet.map((g) => ({ ordinal: g.ordinal, text: g.text })) };
      }
      await tx.db
        .updateTable('goals')
        .set({ state: 'met' })
        .where('run_id', '=', run.id)
        .where('state', '=', 'open')
        .execute();
      const said =
        summary === undefined ? null : this.#deps.redactor.redactString(summary).slice(0, 500);
      const failedCall = await lastFailedToolCallIn(tx, run.id);
      if (failedCall !== undefined) await this.#recordClaimAfterFailure(tx, run, failedCall);
      await this.#deps.meter.chargeIn(tx, run, { wall_clock_ms: this.takeUncharged() });
      await this.#deps.runs.transitionIn(tx, run.id, 'done', {
        actor: this.#actor,
        reason: failedCall === undefined ? said : claimAfterFailureReason(failedCall, said),
      });
      return { accepted: true, unmet: [] };
    });
  }

  /**
   * The goals hold only by the agent's word, and its last tool call failed: the claim stands
   * (no predicate says otherwise) but is recorded with the failure as its evidence.
   */
  async #recordClaimAfterFailure(tx: ChainTx, run: Run, failed: FailedToolCall): Promise<void> {
    await tx.append({
      event_type: 'policy.decision',
      actor: this.#actor,
      session_id: run.session_id,
      run_id: run.id,
      rule_id: 'completion.after_failed_tool_call',
      data: { decision: 'accepted', claim: 'complete', evidence: failed },
    });
  }

  async memoryGet(key: string): Promise<unknown> {
    const row = await this.#deps.chain.transact((tx) =>
      tx.db
        .selectFrom('memory')
        .select('value')
        .where('namespace', '=', runMemoryNamespace(this.#runId))
        .where('key', '=', key)
        .executeTakeFirst(),
    );
    return row === undefined ? null : (JSON.parse(row.value) as unknown);
  }

  async memoryPut(key: string, value: unknown): Promise<void> {
    const error = await this.#deps.chain.transact(async (tx): Promise<AppError | undefined> => {
      const run = await this.#requireRunning(tx);
      const namespace = runMemoryNamespace(run.id);
      const text = JSON.stringify(this.#deps.redactor.redactValue(value) ?? null);
      const { max_memory_puts: puts, run_memory_max_bytes: maxBytes } = this.#grant.quotas;
      if (this.#memoryPuts >= puts) {
        return this.#refuseIn(tx, run, 'memory_puts', { limit: puts, used: this.#memoryPuts });
      }
      // The whole namespace after this write: every other key's size plus this one's.
      const others = await tx.db
        .selectFrom('memory')
        .select(
          sql<number>`coalesce(sum(length(cast(key as blob)) + length(cast(value as blob))), 0)`.as(
            'bytes',
          ),
        )
        .where('namespace', '=', namespace)
        .where('key', '!=', key)
        .executeTakeFirstOrThrow();
      const bytes = Buffer.byteLength(key) + Buffer.byteLength(text);
      if (others.bytes + bytes > maxBytes) {
        return this.#refuseIn(tx, run, 'memory_bytes', {
          limit: maxBytes,
          used: others.bytes + bytes,
        });
      }
      this.#memoryPuts += 1;
      const now = this.#deps.clock.now().toISOString();
      await tx.db
        .insertInto('memory')
        .values({
          namespace,
          key,
          value: text,
          label: 'internal.system',
          source: this.#actor,
          run_id: run.id,
          step_id: null,
          expires_at: null,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.columns(['namespace', 'key']).doUpdateSet({ value: text, updated_at: now }),
        )
        .execute();
      await tx.append({
        event_type: 'memory.write',
        actor: this.#actor,
        session_id: run.session_id,
        run_id: run.id,
        data: { namespace, key, bytes: Buffer.byteLength(text) },
      });
      return undefined;
    });
    if (error !== undefined) throw error;
  }

  /**
   * Records a quota refusal on the chain (committed: the caller returns the error rather
   * than throwing inside the transaction) and gives the error the worker gets.
   */
  async #refuseIn(
    tx: ChainTx,
    run: Run,
    quota: 'checkpoints' | 'memory_puts' | 'memory_bytes',
    usage: { limit: number; used: number },
  ): Promise<AppError> {
    await tx.append({
      event_type: 'policy.decision',
      actor: 'host',
      session_id: run.session_id,
      run_id: run.id,
      rule_id: `quota.${quota}`,
      data: { decision: 'refused', quota, ...usage },
    });
    const what = {
      checkpoints: `this segment wrote its ${usage.limit} checkpoints`,
      memory_puts: `this segment made its ${usage.limit} memory writes`,
      memory_bytes: `the run's memory would hold ${usage.used} bytes; its quota is ${usage.limit}`,
    }[quota];
    return quotaExceeded(quota, `${what} (policy pack quota)`, usage);
  }

  /** Checkpoints `request.state`, pauses the run and schedules its resume, in one transaction. */
  resumeLater(request: FollowUpRequest): Promise<FollowUpReply> {
    const followUps = this.#deps.followUps;
    if (followUps === undefined) {
      return Promise.reject(
        new AppError(
          'INVALID_INPUT',
          'this host has no scheduler: a run cannot ask to resume later',
        ),
      );
    }
    return followUps.request(
      this.#runId,
      this.#grant.index,
      request,
      this.#actor,
      this.#grant.quotas.checkpoints_kept,
    );
  }

  /** Active time not yet charged to the run's wall-clock usage; taking it marks it charged. */
  takeUncharged(): number {
    const now = this.elapsedMs();
    const uncharged = now - this.#charged;
    this.#charged = now;
    return uncharged;
  }

  async #requireRunning(tx: ChainTx): Promise<Run> {
    const run = await this.#deps.runs.getIn(tx, this.#runId);
    if (run.state !== 'running')
      throw new AppError('SEGMENT_ENDED', `the run is ${run.state}, not running`);
    return run;
  }

  /**
   * Allows one step (with `tokens` estimated) or throws; charges the step when allowed.
   * Returns the run as charged and the tokens its budget has left.
   */
  async #authorizeStep(tokens: number): Promise<{ run: Run; tokensLeft: number }> {
    const verdict = await this.#deps.chain.transact((tx) => this.#authorizeIn(tx, tokens, true));
    if ('error' in verdict) throw verdict.error;
    return verdict;
  }

  /**
   * The budget check of one step inside a caller's transaction: the run must be running, the
   * segment must have steps and time left, and the budget must hold, counting steps already
   * allowed but not yet charged. Refusals are returned so their effects (a failed run, a
   * budget approval) commit with the transaction. `charge: false` holds the step in memory
   * for the caller to charge with `#settleIn` (one segment lives in one host and one worker,
   * so the count is exact).
   */
  async #authorizeIn(
    tx: ChainTx,
    tokens: number,
    charge: boolean,
  ): Promise<{ error: AppError } | { run: Run; tokensLeft: number }> {
    const run = await this.#requireRunning(tx);
    // A person's interrupt (issue 24): the run pauses here, before this step starts anything.
    const interrupted = await this.#deps.steering?.applyInterruptIn(tx, run, 'host');
    if (interrupted !== undefined) return { error: interrupted };
    // The kill switch: a paused host ends every segment at its next step.
    const controls = this.#deps.controls;
    if (controls?.paused === true) {
      return {
        error: new AppError('SEGMENT_ENDED', 'a person paused all agents: checkpoint and exit'),
      };
    }
    // Like a run's budget, the day's cap is checked before a call and may be passed by the
    // one call that crosses it; then the host holds every run until the day turns.
    if (controls !== undefined && tokens > 0 && controls.tokensLeftToday() === 0) {
      return {
        error: new AppError(
          'SEGMENT_ENDED',
          "the host's daily token cap is reached: checkpoint and exit",
        ),
      };
    }
    if (this.#steps >= this.#grant.max_steps || this.#segmentElapsedMs() > this.#grant.max_ms) {
      return {
        error: new AppError('SEGMENT_ENDED', 'this segment is over: checkpoint and exit'),
      };
    }
    const over = await this.#deps.meter.checkIn(tx, run, {
      steps: 1 + this.#heldSteps,
      tokens,
      activeMs: this.elapsedMs() - this.#charged,
    });
    if (over !== undefined) {
      return { error: await this.#deps.meter.overrunIn(tx, run, over, { actor: 'host' }) };
    }
    this.#steps += 1;
    if (!charge) {
      this.#heldSteps += 1;
      const limits = await this.#deps.meter.limitsIn(tx, run);
      return { run, tokensLeft: limits.tokens - run.usage.tokens };
    }
    const usage = await this.#deps.meter.chargeIn(tx, run, { steps: 1 });
    const limits = await this.#deps.meter.limitsIn(tx, run);
    return { run: { ...run, usage }, tokensLeft: limits.tokens - usage.tokens };
  }

  /** How the execute pipeline meters this segment's tool calls, in its own transactions. */
  readonly #toolMeter: StepMeter = {
    authorizeIn: async (tx, { charge }) => {
      const verdict = await this.#authorizeIn(tx, 0, charge);
      return 'error' in verdict ? verdict.error : undefined;
    },
    settleIn: async (tx) => {
      this.#heldSteps -= 1;
      // chargeIn reads the run's usage afresh; the granted run gives it the id and session.
      await this.#deps.meter.chargeIn(tx, this.#run, { steps: 1 });
    },
    release: () => {
      this.#heldSteps -= 1;
    },
  };
}

/** A done run's reason when its claim came right after a failed tool call: the evidence first. */
function claimAfterFailureReason(failed: FailedToolCall, said: string | null): string {
  const evidence = `claimed complete right after a failed tool call: ${failed.tool} ${failed.outcome} (${failed.detail.slice(0, 200)})`;
  return (said === null ? evidence : `${evidence}; the agent said: ${said}`).slice(0, 500);
}

/** The step id of the tool call the LLM named `callId` in run `runId`; the same across segments. */
export function callStepId(runId: string, callId: string): string {
  const digest = createHash('sha256').update(`${runId}\n${callId}`).digest('hex');
  return `call_${digest.slice(0, 32)}`;
}
