import type { LlmProviderSettings } from '../../../contracts/llm.ts';
import type { LlmTestResult } from '../../../contracts/ui.ts';
import { isAppError } from '../../errors.ts';
import type { SecretResolver } from './api-key.ts';
import { createLlmProvider } from './create-llm-provider.ts';

/** Short: a person waits for the answer in Settings. */
const TEST_TIMEOUT_MS = 20_000;

/**
 * One tiny completion from a fresh provider built from `settings`, outside any run (nothing is
 * charged or recorded), so Settings can show whether the key, URL and model work — and the
 * provider's own error when they do not. `redact` runs over every message shown.
 */
export async function testLlmConnection(
  settings: LlmProviderSettings,
  deps: { resolveSecret: SecretResolver; redact: (text: string) => string },
): Promise<LlmTestResult> {
  const provider = createLlmProvider(settings, {
    resolveSecret: deps.resolveSecret,
    // A replay transcript is read from its top: the test never consumes a run's answers.
    replayStartAt: () => Promise.resolve(0),
    timeoutMs: TEST_TIMEOUT_MS,
    maxRetries: 0,
  });
  try {
    const result = await provider.complete({
      messages: [{ role: 'user', content: 'Reply with the single word: ok' }],
      max_output_tokens: 16,
    });
    return {
      ok: true,
      message: deps.redact(`${provider.id} answered (model ${result.model})`),
      code: null,
    };
  } catch (e) {
    if (!isAppError(e)) throw e;
    return { ok: false, message: deps.redact(e.message), code: e.code };
  }
}
