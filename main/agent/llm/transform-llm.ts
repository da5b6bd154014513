import { isIP } from 'node:net';
import type { LlmProviderSettings } from '../../../contracts/llm.ts';
import type { TransformModel } from '../../transforms/transform-model.ts';
import { createLlmProvider } from './create-llm-provider.ts';
import type { LlmProviderDeps } from './llm-provider.ts';

/** The public Anthropic API, where an `anthropic` provider without a base URL goes. */
const ANTHROPIC_DEFAULT_URL = 'https://api.anthropic.com';

/** True for `localhost`, 127.0.0.0/8 and ::1: a provider there runs on this machine. */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * The host's LLM for model transforms, or undefined when there is none to use: no provider,
 * or a replay transcript (scripted answers for an agent's run, not for transforms). Its own
 * provider instance, so a transform's calls never move an agent's replay position.
 */
export function transformModelOf(
  settings: LlmProviderSettings | null,
  deps: Pick<LlmProviderDeps, 'resolveSecret'>,
): TransformModel | undefined {
  if (settings === null || settings.kind === 'replay') return undefined;
  const provider = createLlmProvider(settings, { ...deps, maxRetries: 0 });
  return {
    id: provider.id,
    local: isLoopbackUrl(settings.base_url ?? ANTHROPIC_DEFAULT_URL),
    complete: (request) => provider.complete(request),
  };
}
