import { z } from 'zod';
import { llmMessageSchema, type LlmMessage, type LlmToolCall } from '../../../contracts/llm.ts';

/** Messages kept in the conversation (besides the opening one); older turns are dropped. */
export const MAX_KEPT_MESSAGES = 40;
/** Cap on one message's text, so a single tool result cannot fill the context or the checkpoint. */
export const MAX_MESSAGE_CHARS = 16 * 1024;
/** Cap on the serialised state; the host caps checkpoints too, this keeps the worker under it. */
export const MAX_STATE_BYTES = 256 * 1024;

/**
 * What the worker checkpoints: its conversation without the system prompt (which is rebuilt
 * from the host's session info each segment). Versioned so a later worker can tell.
 */
export const agentStateSchema = z.strictObject({
  version: z.literal(1),
  messages: z.array(llmMessageSchema),
});
export type AgentState = z.infer<typeof agentStateSchema>;

const KICKOFF = 'Begin working on the goal.';

/** The state to start a segment from: the previous checkpoint, or a fresh conversation. */
export function restoreState(
  checkpoint: unknown,
  log: (message: string) => void,
): { state: AgentState; resumed: boolean } {
  if (checkpoint !== null && checkpoint !== undefined) {
    const parsed = agentStateSchema.safeParse(checkpoint);
    if (parsed.success && parsed.data.messages.length > 0) {
      return { state: parsed.data, resumed: true };
    }
    // A checkpoint this worker cannot read is not fatal: starting over is safe, only slower.
    log('checkpoint not readable as agent state; starting a fresh conversation');
  }
  return { state: { version: 1, messages: [{ role: 'user', content: KICKOFF }] }, resumed: false };
}

/**
 * Tool calls of the last assistant message that have no result yet: a segment that ended
 * (or paused) between a model answer and its tool results runs them first when it resumes,
 * since providers reject a conversation whose tool calls are unanswered.
 */
export function pendingToolCalls(messages: readonly LlmMessage[]): LlmToolCall[] {
  let i = messages.length - 1;
  const answered = new Set<string>();
  for (; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'tool') break;
    answered.add(m.tool_call_id);
  }
  const last = messages[i];
  if (last?.role !== 'assistant') return [];
  return (last.tool_calls ?? []).filter((c) => !answered.has(c.id));
}

/** Cuts a message's text to `MAX_MESSAGE_CHARS`, saying so. */
export function boundMessage(message: LlmMessage): LlmMessage {
  if (message.content.length <= MAX_MESSAGE_CHARS) return message;
  const cut = message.content.length - MAX_MESSAGE_CHARS;
  return {
    ...message,
    content: `${message.content.slice(0, MAX_MESSAGE_CHARS)}… [${cut} characters cut]`,
  };
}

/**
 * Keeps the opening message and the most recent turns within `MAX_KEPT_MESSAGES` and
 * `MAX_STATE_BYTES`. The kept tail starts at a user or assistant message, never at a tool
 * result whose call was dropped.
 */
export function boundState(state: AgentState): AgentState {
  const [first, ...rest] = state.messages;
  if (first === undefined) return state;
  let start = Math.max(0, rest.length - MAX_KEPT_MESSAGES);
  const fits = (from: number): boolean =>
    Buffer.byteLength(JSON.stringify([first, ...rest.slice(from)])) <= MAX_STATE_BYTES;
  while (start < rest.length - 1 && (rest[start]?.role === 'tool' || !fits(start))) start++;
  if (start === 0) return state;
  return { version: 1, messages: [first, ...rest.slice(start)] };
}
