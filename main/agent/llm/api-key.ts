import { AppError } from '../../errors.ts';

/** Looks a secret up by name in the secret store; `undefined` when it is not set. */
export type SecretResolver = (name: string) => Promise<string | undefined>;

/**
 * The provider's API key, read from the secret store on first use (so settings can be
 * loaded before the store is unlocked) and then kept in memory. A failed read is not
 * cached: the next call tries again. The key lives in this closure and nowhere else in
 * the provider's fields, so logging a provider object cannot print it.
 */
export function lazyApiKey(
  providerId: string,
  secretName: string,
  resolveSecret: SecretResolver,
): () => Promise<string> {
  let pending: Promise<string> | undefined;
  return () => {
    pending ??= read().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };

  async function read(): Promise<string> {
    let value: string | undefined;
    try {
      value = await resolveSecret(secretName);
    } catch {
      // The resolver's own error is dropped: it is not ours to vouch that it holds no secret.
      throw new AppError('LLM_AUTH', `${providerId}: secret ${secretName} could not be read`, {
        provider: providerId,
      });
    }
    if (value === undefined || value.length === 0)
      throw new AppError('LLM_AUTH', `${providerId}: secret ${secretName} is not set`, {
        provider: providerId,
      });
    return value;
  }
}
