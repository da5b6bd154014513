import type { LlmCompleteReply } from '../../contracts/agent-channel.ts';
import type { LlmCompleteRequest, LlmCompleteResult } from '../../contracts/llm.ts';
import type { Run } from '../../contracts/runs.ts';
import { estimateRequestTokens } from '../agent/llm/estimate-usage.ts';
import { newId } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { WaitingNote } from '../runs/run-steering.ts';
import { TaskLimit } from '../task-limit.ts';
import { classifyLlmFailure, recordLlmFailureIn, type LlmBackoff } from './llm-failure.ts';
import type { NoteHandoff } from './note-handoff.ts';
import { notesMayFollow } from './note-placement.ts';
import type { SegmentContext } from './segment-context.ts';
import type { StepGate } from './step-gate.ts';
import { recordCallWindowsIn } from './call-windows.ts';
import { prepareWindow, withheldAtoms, type PreparedPrompt } from './context-window.ts';
import { deliveredNotes, recordedResults } from './window-records.ts';

/**
 * The `llm.complete` handler of one segment: each call is authorised as a step, made by the
 * host with the prompt redacted, charged, and recorded with its prompt and answer.
 */
export class SegmentLlmCall {
  readonly #ctx: SegmentContext;
  readonly #gate: StepGate;
  readonly #notes: NoteHandoff;
  readonly #signal: AbortSignal;
  readonly #llmCalls = new TaskLimit(1);
  #llmBackoff: LlmBackoff | undefined;

  constructor(ctx: SegmentContext, gate: StepGate, notes: NoteHandoff, signal: AbortSignal) {
    this.#ctx = ctx;
    this.#gate = gate;
    this.#notes = notes;
    this.#signal = signal;
  }

  /**
   * Set when an LLM call failed transiently: the segment ended for it, and the run waits
   * until `until` before its next segment (not a worker fault: no retry is spent).
   */
  get llmBackoff(): LlmBackoff | undefined {
    return this.#llmBackoff;
  }

  /**
   * One LLM call at a time per segment (issue 17 #10): the channel dispatches a worker's
   * requests without waiting for earlier ones, and calls authorised side by side would all
   * pass the same token check. Queued, each is authorised against the usage every earlier
   * call has settled, so a run overspends by at most one call's misestimate.
   */
  complete(request: LlmCompleteRequest): Promise<LlmCompleteReply> {
    return this.#llmCalls.run(() => this.#completeNow(request));
  }

  /** A person's waiting notes, as user messages after the request's last message (issue 24). */
  async #notesFor(request: LlmCompleteRequest): Promise<WaitingNote[]> {
    if (this.#ctx.deps.steering === undefined) return [];
    if (!notesMayFollow(request.messages)) return [];
    return this.#ctx.deps.chain.transact((tx) => this.#notes.waitingIn(tx));
  }

  async #completeNow(request: LlmCompleteRequest): Promise<LlmCompleteReply> {
    const { deps, grant, actor } = this.#ctx;
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
    const redacted = deps.redactor.redactValue(asked);
    // What the provider may see of it, quoted as data where untrusted, and the window's join.
    const prepared = await this.#prepare(redacted, notes);
    const safe: LlmCompleteRequest = { ...redacted, messages: prepared.messages };
    // The prompt and at least one answer token must fit what is left of the budget. The
    // answer is then capped at the rest, rather than refusing every call whose requested cap
    // does not fit: a worker asks for up to 4096 tokens, so a smaller budget (or the last
    // 4096 tokens of any budget) could otherwise never be used.
    const prompt = estimateRequestTokens(safe);
    const { run, tokensLeft } = await this.#gate.authorizeStep(prompt + 1);
    const maxOutput = Math.min(safe.max_output_tokens ?? Infinity, tokensLeft - prompt);
    const started = deps.clock.now();
    let result: LlmCompleteResult;
    try {
      result = await deps.llm.complete(
        { ...safe, max_output_tokens: maxOutput },
        { signal: this.#signal },
      );
    } catch (e) {
      throw await this.#failed(run, started, e);
    }
    const tokens = result.usage.input_tokens + result.usage.output_tokens;
    deps.controls?.chargeTokens(tokens);
    await deps.chain.transact(async (tx) => {
      await deps.meter.chargeIn(tx, run, {
        tokens,
        tokens_estimated: result.usage.estimated,
      });
      const stepId = newId('stp');
      await tx.db
        .insertInto('steps')
        .values({
          run_id: run.id,
          step_id: stepId,
          segment: grant.index,
          kind: 'llm',
          summary: `${result.model}: ${result.stop_reason}, ${result.message.tool_calls.length} tool call(s)`,
          tokens,
          started_at: started.toISOString(),
          ended_at: deps.clock.now().toISOString(),
          outcome: 'ok',
          // The answer carries the join of everything the model saw (issue 22).
          output_label: JSON.stringify(prepared.window.label),
          output_taint: prepared.window.taint,
          output_source: `llm ${result.model}`,
        })
        .execute();
      await recordCallWindowsIn(tx, run.id, stepId, result.message.tool_calls, prepared);
      // Prompt and answer as payloads (redacted; tools by name: their schemas are the
      // registry's); the chain keeps their digests only.
      const about = { run_id: run.id, step_id: stepId, subject: result.model };
      const prompt = await deps.payloads.recordIn(tx, {
        ...about,
        kind: 'llm.prompt',
        content: { ...safe, tools: (safe.tools ?? []).map((t) => t.name) },
      });
      const answer = await deps.payloads.recordIn(tx, {
        ...about,
        kind: 'llm.answer',
        content: deps.redactor.redactValue(result.message),
      });
      await tx.append({
        event_type: 'llm.call',
        actor,
        session_id: run.session_id,
        run_id: run.id,
        step_id: stepId,
        capability_id: deps.llm.id,
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
    this.#notes.handOut(notes);
    // Redacted as the model saw them, so the worker keeps exactly what was sent.
    return {
      ...result,
      notes: notes.map((n) => ({ id: n.id, message: deps.redactor.redactString(n.message) })),
    };
  }

  async #prepare(
    request: LlmCompleteRequest,
    notes: readonly WaitingNote[],
  ): Promise<PreparedPrompt> {
    const { deps, run } = this.#ctx;
    const { db, policies, llmLocation } = deps.labels;
    const results = await recordedResults(db, run.id, request.messages);
    const held = [
      ...(await deliveredNotes(db, run.id, deps.redactor)),
      // Only a person's words are their personal data; the host's arrival notes name pointers.
      ...notes.filter((n) => n.from_person).map((n) => deps.redactor.redactString(n.message)),
    ];
    const withheld = withheldAtoms(policies.forRun(run), llmLocation);
    return prepareWindow(request.messages, results, held, withheld);
  }

  /**
   * Judges a failed LLM call where the host made it (the worker only sees that its segment
   * ended): permanent failures fail the run now, transient ones end the segment with a
   * backoff the supervisor honours. Returns what the worker is answered.
   */
  async #failed(run: Run, started: Date, e: unknown): Promise<unknown> {
    const { deps, grant, actor } = this.#ctx;
    const verdict = classifyLlmFailure(e);
    if (verdict === undefined) return e;
    const backoff = await deps.chain.transact(async (tx) => {
      const now = await deps.runs.getIn(tx, run.id);
      // Cancelled or failed meanwhile: the abort caused this error, there is nothing to judge.
      if (now.state !== 'running') return undefined;
      return recordLlmFailureIn(
        tx,
        {
          runs: deps.runs,
          redactor: deps.redactor,
          logger: deps.logger,
          providerId: deps.llm.id,
          actor,
          policy: grant.llm_retry,
          segment: grant.index,
          started,
          now: deps.clock.now(),
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
}
