import type { LlmProviderSettings } from '../../contracts/llm.ts';

/**
 * The names LLM providers' keys conventionally live under. Reserved even when no provider
 * names them yet: a person who stores their key as OPENAI_API_KEY for later must not find
 * that a skill document declaring the same name already carries it to its own origin.
 */
const CONVENTIONAL_LLM_KEYS = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'] as const;

/**
 * Secrets of the host's own configuration, which no skill may declare or be handed: the LLM
 * provider's key (its `api_key_secret`) and the conventional LLM key names.
 */
export function hostSecretNames(llm: LlmProviderSettings | null): ReadonlySet<string> {
  const names = new Set<string>(CONVENTIONAL_LLM_KEYS);
  if (llm !== null && 'api_key_secret' in llm && llm.api_key_secret !== undefined)
    names.add(llm.api_key_secret);
  return names;
}
