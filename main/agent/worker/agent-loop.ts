import {
  RESUME_LATER_TOOL,
  resumeLaterArgsSchema,
  toolCallIdSchema,
  type ToolCallOutcome,
} from '../../../contracts/agent-channel.ts';
import type { LlmMessage, LlmToolCall } from '../../../contracts/llm.ts';
import { channelErrorCode, type AgentClient } from './agent-client.ts';
import {
  boundMessage,
  boundState,
  pendingToolCalls,
  restoreState,
  type AgentState,
} from './agent-state.ts';
import { MEMORY_TOOLS } from '../../../contracts/agent-memory-tools.ts';
import { callMemoryTool, isMemoryTool } from './memory-tools.ts';
import type { WorkerLog } from './worker-log.ts';
import { systemPrompt } from './system-prompt.ts';

/** Stop this long before the segment's time is up, so the last checkpoint lands in time. */
const SEGMENT_TIME_MARGIN_MS = 500;
/** Per-answer output cap asked of the model; the host meters and caps tokens itself. */
const MAX_OUTPUT_TOKENS = 4096;
/** Longest summary the `complete` claim accepts (contracts/agent-channel.ts). */
const MAX_SUMMARY_CHARS = 4000;

/** Host error codes that end the segment normally: checkpoint if possible, then exit 0. */
const STOP_CODES: ReadonlySet<string> = new Set(['SEGMENT_ENDED', 'BUDGET_EXCEEDED']);

/** Why the loop ended without an error. */
export type AgentLoopEnd =
  /** The host accepted the claim that every goal is met. */
  | 'completed'
  /** The segment's steps or time (or the run's remaining budget) are used up. */
  | 'segment_limit'
  /** A tool call waits for a person; the call runs again when the run resumes. */
  | 'paused'
  /** The run waits for a schedule to resume it (`ccos__resume_later`). */
  | 'resume_later'
  /** The host refused a call with SEGMENT_ENDED or BUDGET_EXCEEDED. */
  | 'stopped_by_host';

export type AgentLoopDeps = {
  client: AgentClient;
  log: WorkerLog;
  /** Milliseconds, monotonic enough for a segment's length. */
  now: () => number;
};

/**
 * One segment of the agent loop (ARCHITECTURE.md §4, §8): read the session, restore the
 * conversation from the checkpoint, then take steps — one LLM call or one tool call each —
 * checkpointing after every step, until the goal is claimed and accepted, the segment is
 * used up, a tool call pauses, or the host ends the segment. Cooperative only: the host
 * meters and enforces every limit; this just stops cleanly before it has to.
 * Unexpected errors are thrown (the worker then exits non-zero and the host retries).
 */
export async function runAgentLoop(deps: AgentLoopDeps): Promise<AgentLoopEnd> {
  const { client, log, now } = deps;
  const startedAt = now();
  const info = await client.sessionInfo();
  // The host's tools, and those the worker serves itself: waiting, and governed memory.
  const tools = [...(await client.listTools()), RESUME_LATER_TOOL, ...MEMORY_TOOLS];
  const restored = restoreState(info.checkpoint, log);
  let state: AgentState = restored.state;
  let saved = restored.resumed;
  log(
    `segment ${info.segment.index}: ${restored.resumed ? 'resuming' : 'starting'} with ` +
      `${state.messages.length} messages and ${tools.length} tools`,
  );

  const maxSteps = Math.min(info.segment.max_steps, info.remaining.steps);
  const deadline = startedAt + info.segment.max_ms - SEGMENT_TIME_MARGIN_MS;
  let steps = 0;

  const append = (message: LlmMessage): void => {
    state = boundState({ version: 1, messages: [...state.messages, boundMessage(message)] });
    saved = false;
  };
  const checkpoint = async (): Promise<void> => {
    if (saved) return;
    await client.checkpoint(state);
    saved = true;
  };

  try {
    for (;;) {
      const [call] = pendingToolCalls(state.messages);
      // Waiting costs the budget no step: honoured even when the segment's steps are used up.
      if (call?.name === RESUME_LATER_TOOL.name) {
        const waited = await resumeLater(client, call, state, log);
        if (waited.paused) {
          state = waited.state;
          saved = true;
          return 'resume_later';
        }
        append(toolMessage(call, waited.outcome));
        await checkpoint();
        continue;
      }
      if (steps >= maxSteps || now() >= deadline || info.remaining.tokens === 0) {
        await checkpoint();
        return 'segment_limit';
      }
      steps++;

      if (call !== undefined) {
        const outcome = isMemoryTool(call.name)
          ? await hostRefusalAsOutcome(() => callMemoryTool(client, call))
          : await callTool(client, call, log);
        if (outcome.status === 'paused') {
          // The call stays unanswered in the state, so the resumed segment runs it again
          // once the person has decided (or supplied the missing fields).
          log(`tool ${call.name} paused: ${outcome.reason}`);
          await checkpoint();
          return 'paused';
        }
        append(toolMessage(call, outcome));
        await checkpoint();
        continue;
      }

      const result = await client.llmComplete({
        messages: [{ role: 'system', content: systemPrompt(info) }, ...state.messages],
        ...(tools.length > 0 ? { tools } : {}),
        max_output_tokens: Math.min(MAX_OUTPUT_TOKENS, info.remaining.tokens),
      });
      // The person's notes came after this conversation's last message in the request the
      // model answered: kept in that place, they reach the checkpoint and are never re-sent.
      for (const note of result.notes ?? []) append({ role: 'user', content: note.message });
      const { content, tool_calls } = result.message;
      append(
        tool_calls.length > 0
          ? { role: 'assistant', content, tool_calls }
          : { role: 'assistant', content },
      );
      await checkpoint();
      if (tool_calls.length > 0) continue;

      if (result.stop_reason === 'max_tokens') {
        append({ role: 'user', content: 'Your answer was cut off. Continue.' });
        continue;
      }
      // No tool calls and a finished answer: the model says the goal is met.
      const reply = await client.complete(content.slice(0, MAX_SUMMARY_CHARS) || undefined);
      if (reply.accepted) return 'completed';
      const unmet = reply.unmet.map((g) => `${g.ordinal + 1}. ${g.text}`).join('\n');
      log(`completion refused; ${reply.unmet.length} goals unmet`);
      append({
        role: 'user',
        content: `The gateway checked the goals and these are not met yet:\n${unmet}\nKeep working on them.`,
      });
    }
  } catch (e) {
    const code = channelErrorCode(e);
    if (code === undefined || !STOP_CODES.has(code)) throw e;
    log(`host ended the segment: ${code}`);
    // The host may refuse this too once the segment is over; the last saved step stands then.
    await checkpoint().catch(() => undefined);
    return 'stopped_by_host';
  }
}

/**
 * A host error other than the stop codes (a refused memory write, an undeclared namespace) is
 * an outcome the model can reason about, not a reason to end the segment.
 */
async function hostRefusalAsOutcome(run: () => Promise<ToolCallOutcome>): Promise<ToolCallOutcome> {
  try {
    return await run();
  } catch (e) {
    const code = channelErrorCode(e);
    if (code === undefined || STOP_CODES.has(code)) throw e;
    return { status: 'error', code, message: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Calls a tool with the model's call id, so a call re-issued from the checkpoint after a
 * crash is answered from the host's record instead of running twice. An id the host would
 * refuse (a provider's unusual format) is left out: the call then runs without that guard.
 * A host error other than the stop codes (an unknown tool, bad arguments) is an outcome the
 * model can correct, not a reason to end the segment.
 */
async function callTool(
  client: AgentClient,
  call: LlmToolCall,
  log: WorkerLog,
): Promise<ToolCallOutcome> {
  const callId = toolCallIdSchema.safeParse(call.id);
  if (!callId.success) log(`tool call id of ${call.name} is not a plain token; sent without it`);
  try {
    return await client.callTool(
      call.name,
      call.arguments,
      callId.success ? callId.data : undefined,
    );
  } catch (e) {
    const code = channelErrorCode(e);
    if (code === undefined || STOP_CODES.has(code)) throw e;
    return { status: 'error', code, message: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * The model asked to wait (`ccos__resume_later`). The saved state already holds the call's
 * answer, so the resumed segment continues after it instead of asking to wait again; the
 * host checkpoints that state, pauses the run and creates the follow-up in one transaction.
 * A refusal the model can act on (a time out of range, no schedule to wake the run) comes
 * back as the tool's error outcome.
 */
async function resumeLater(
  client: AgentClient,
  call: LlmToolCall,
  state: AgentState,
  log: WorkerLog,
): Promise<{ paused: true; state: AgentState } | { paused: false; outcome: ToolCallOutcome }> {
  const args = resumeLaterArgsSchema.safeParse(call.arguments);
  if (!args.success) {
    return {
      paused: false,
      outcome: { status: 'error', code: 'INVALID_INPUT', message: args.error.message },
    };
  }
  const { after_seconds, at, reason, until_message } = args.data;
  const resumed = toolMessage(call, {
    status: 'ok',
    output: {
      resumed: true,
      waited_for:
        until_message === true
          ? 'the next message'
          : (at ?? (after_seconds === undefined ? 'a schedule of this run' : `${after_seconds} s`)),
    },
  });
  const next = boundState({ version: 1, messages: [...state.messages, boundMessage(resumed)] });
  try {
    const reply = await client.resumeLater({
      ...(at === undefined ? {} : { at }),
      ...(after_seconds === undefined ? {} : { after_ms: after_seconds * 1000 }),
      ...(reason === undefined ? {} : { reason }),
      ...(until_message === true ? { until_message: true as const } : {}),
      state: next,
    });
    log(`paused until ${reply.resume_at ?? 'a schedule wakes the run'}`);
    return { paused: true, state: next };
  } catch (e) {
    const code = channelErrorCode(e);
    if (code === undefined || STOP_CODES.has(code)) throw e;
    return {
      paused: false,
      outcome: { status: 'error', code, message: e instanceof Error ? e.message : String(e) },
    };
  }
}

/** A tool outcome as the conversation's tool message; the system prompt marks it as data. */
function toolMessage(call: LlmToolCall, outcome: ToolCallOutcome): LlmMessage {
  return {
    role: 'tool',
    tool_call_id: call.id,
    content: JSON.stringify(outcome),
    is_error: outcome.status === 'error' || outcome.status === 'refused',
  };
}
