import type { LlmMessage } from '../../contracts/llm.ts';

/**
 * Whether a person's notes may go after the last message of an LLM request (issue 24).
 * Not after an assistant message whose tool calls have no results yet: providers refuse a
 * user message between a tool call and its result, so the notes wait for the next step.
 */
export function notesMayFollow(messages: readonly LlmMessage[]): boolean {
  const last = messages.at(-1);
  return !(last?.role === 'assistant' && (last.tool_calls ?? []).length > 0);
}
