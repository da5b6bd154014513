import type { LlmCompleteRequest, LlmCompleteResult, LlmUsage } from '../../../contracts/llm.ts';

/**
 * Rough tokens-per-character ratio for English text and JSON with common tokenizers. Only
 * used when a provider reports no usage: a run must still be charged, and over-charging a
 * little is safer for a budget than charging nothing.
 */
const CHARS_PER_TOKEN = 4;

/** Estimated tokens of a text: ceil(chars / 4). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/**
 * Estimated input tokens of a request: every message's content and tool calls plus the
 * tool definitions, which providers also put in the prompt. The gateway may use it to
 * refuse a call that cannot fit the remaining budget before it is made.
 */
export function estimateRequestTokens(request: LlmCompleteRequest): number {
  let chars = 0;
  for (const m of request.messages) {
    chars += m.content.length;
    if (m.role === 'assistant' && m.tool_calls !== undefined) chars += jsonLength(m.tool_calls);
  }
  if (request.tools !== undefined) chars += jsonLength(request.tools);
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** The usage charged for a completion whose provider reported none, flagged `estimated`. */
export function estimateUsage(
  request: LlmCompleteRequest,
  message: LlmCompleteResult['message'],
): LlmUsage {
  const outputChars =
    message.content.length + (message.tool_calls.length > 0 ? jsonLength(message.tool_calls) : 0);
  return {
    input_tokens: estimateRequestTokens(request),
    output_tokens: Math.ceil(outputChars / CHARS_PER_TOKEN),
    estimated: true,
  };
}

function jsonLength(value: unknown): number {
  return JSON.stringify(value).length;
}
