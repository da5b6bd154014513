import type { LlmProviderSettings } from '../../../contracts/llm.ts';
import { assertNever } from '../../errors.ts';
import { AnthropicProvider } from './anthropic-provider.ts';
import type { LlmProvider, LlmProviderDeps } from './llm-provider.ts';
import { OpenAiCompatibleProvider } from './openai-compatible-provider.ts';
import { ReplayProvider } from './replay-provider.ts';

/** Builds the provider the settings name. The API key is read lazily, on the first call. */
export function createLlmProvider(
  settings: LlmProviderSettings,
  deps: LlmProviderDeps,
): LlmProvider {
  switch (settings.kind) {
    case 'openai_compatible':
      return new OpenAiCompatibleProvider(settings, deps);
    case 'anthropic':
      return new AnthropicProvider(settings, deps);
    case 'replay':
      return new ReplayProvider(settings, deps);
    default:
      return assertNever(settings);
  }
}
