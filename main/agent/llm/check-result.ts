import { llmCompleteResultSchema, type LlmCompleteResult } from '../../../contracts/llm.ts';
import { badResponse } from './llm-errors.ts';

/**
 * Checks a mapped provider answer against the contract before the gateway trusts it: a
 * provider is outside the host, so its answer is an edge like any other (STYLE.md §6).
 */
export function checkResult(providerId: string, result: LlmCompleteResult): LlmCompleteResult {
  const parsed = llmCompleteResultSchema.safeParse(result);
  if (parsed.success) return parsed.data;
  const list = parsed.error.issues
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw badResponse(providerId, `the answer does not fit the LLM contract: ${list}`);
}

/** Parses the JSON text of a tool call's arguments; only a JSON object is an argument list. */
export function parseToolArguments(
  providerId: string,
  toolName: string,
  text: string | null | undefined,
): Record<string, unknown> {
  // Several local servers send "" (or nothing) for a call without arguments.
  if (text === undefined || text === null || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badResponse(providerId, `tool call ${toolName} has arguments that are not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badResponse(providerId, `tool call ${toolName} has arguments that are not a JSON object`);
  return value as Record<string, unknown>;
}
