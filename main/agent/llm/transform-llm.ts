import type { LlmProviderSettings } from '../../../contracts/llm.ts';
import type { TransformModel } from '../../transforms/transform-model.ts';
import { createLlmProvider } from './create-llm-provider.ts';
import { llmLocationOf } from './llm-location.ts';
import type { LlmProviderDeps } from './llm-provider.ts';

/**
 * The host's LLM for model transforms, or undefined when there is none to use: no provider,
 * or a replay transcript (scripted answers for an agent's run, not for transforms). Its own
 * provider instance, so a transform's calls never move an agent's replay position. Local
 * as the agent's prompts judge it (`llmLocationOf`): a loopback URL declared `remote` (a
 * tunnel or a proxy to a hosted API) is sent no message text.
 */
export function transformModelOf(
  settings: LlmProviderSettings | null,
  deps: Pick<LlmProviderDeps, 'resolveSecret'>,
): TransformModel | undefined {
  if (settings === null || settings.kind === 'replay') return undefined;
  const provider = createLlmProvider(settings, { ...deps, maxRetries: 0 });
  return {
    id: provider.id,
    local: llmLocationOf(settings) === 'local',
    complete: (request) => provider.complete(request),
  };
}
