import type { LlmLocation, LlmProviderSettings } from '../../../contracts/llm.ts';

/** The public Anthropic API, where a provider with no base URL sends its requests. */
const ANTHROPIC_DEFAULT = 'https://api.anthropic.com';

/**
 * Whether the configured provider is local or remote (an egress destination, issue 22): the
 * setting's explicit `location`, else local only for a loopback host. A replay transcript
 * never leaves the machine.
 */
export function llmLocationOf(settings: LlmProviderSettings): LlmLocation {
  if (settings.kind === 'replay') return 'local';
  if (settings.location !== undefined) return settings.location;
  return isLoopbackUrl(settings.base_url ?? ANTHROPIC_DEFAULT) ? 'local' : 'remote';
}

function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  // `localhost` may resolve elsewhere, but RFC 6761 reserves it for loopback and every
  // local model server documents it; names that merely look local are remote.
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
