import type { ErrorCode } from '../../../contracts/errors.ts';
import { AppError } from '../../errors.ts';
import { networkCause } from '../../network-cause.ts';

/** What went wrong with a provider call, read from whichever SDK threw. */
export type LlmFailure =
  | { kind: 'aborted' }
  | { kind: 'timeout' }
  /** `cause`: the operating system's or TLS's word for it (`ECONNREFUSED`, `ENOTFOUND`…). */
  | { kind: 'connection'; cause: string }
  /** `retryAfterMs`: how long the provider asked us to wait (`retry-after`, `retry-after-ms`). */
  | { kind: 'status'; status: number; retryAfterMs?: number }
  | { kind: 'unknown' };

/** Provider error text is cut here: it lands in logs and the run's failure reason. */
const MAX_DETAIL_CHARS = 300;
const REDACTED = '[REDACTED]';

/** The stable code of an HTTP status a provider answered with. */
export function llmCodeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'LLM_AUTH';
  if (status === 429) return 'LLM_RATE_LIMITED';
  // 408 and 409 are transient for both SDKs (they retry them), like any 5xx.
  if (status === 408 || status === 409 || status >= 500) return 'LLM_UNAVAILABLE';
  return 'LLM_REJECTED';
}

/**
 * Replaces every occurrence of each secret in `text`. Guards against a provider (or a
 * proxy in front of it) echoing the API key back in an error body that we then log.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.replaceAll(s, REDACTED);
  return out;
}

/**
 * Turns whatever an SDK threw into an `AppError` with a stable code. The SDK error is not
 * kept as `cause`: it holds response headers and bodies, and its message may carry the key,
 * so only a scrubbed, shortened message crosses into our error.
 */
export function llmError(
  providerId: string,
  failure: LlmFailure,
  sdkMessage: string,
  secrets: readonly string[],
): AppError {
  const detail = scrubSecrets(sdkMessage, secrets).slice(0, MAX_DETAIL_CHARS);
  switch (failure.kind) {
    case 'aborted':
      return new AppError('LLM_ABORTED', `${providerId}: the call was aborted`, {
        provider: providerId,
      });
    case 'timeout':
      return new AppError('LLM_UNAVAILABLE', `${providerId}: the call timed out`, {
        provider: providerId,
      });
    case 'connection':
      return new AppError(
        'LLM_UNAVAILABLE',
        `${providerId}: cannot reach the provider (${failure.cause}): ${detail}`,
        { provider: providerId, cause: failure.cause },
      );
    case 'status':
      return new AppError(
        llmCodeForStatus(failure.status),
        `${providerId}: the provider answered ${failure.status}: ${detail}`,
        {
          provider: providerId,
          status: failure.status,
          ...(failure.retryAfterMs === undefined ? {} : { retry_after_ms: failure.retryAfterMs }),
        },
      );
    case 'unknown':
      return new AppError('LLM_UNAVAILABLE', `${providerId}: the call failed: ${detail}`, {
        provider: providerId,
      });
  }
}

/**
 * Maps an error thrown while calling a provider. Our own `AppError`s pass through; an
 * aborted signal wins over whatever the SDK made of the abort.
 */
export function toLlmError(
  providerId: string,
  e: unknown,
  classify: (e: unknown) => LlmFailure,
  secrets: readonly string[],
  signal: AbortSignal | undefined,
): AppError {
  // In-process, so `instanceof` is exact; a code check would also match Node's ECONNRESET.
  if (e instanceof AppError) return e;
  const failure: LlmFailure = signal?.aborted === true ? { kind: 'aborted' } : classify(e);
  const message = e instanceof Error ? e.message : String(e);
  return llmError(providerId, failure, message, secrets);
}

/** What a failed connection says about its cause, for `{ kind: 'connection' }`. */
export function connectionFailure(e: unknown): LlmFailure {
  return { kind: 'connection', cause: networkCause(e) };
}

/** A provider's HTTP error status, with how long it asked us to wait when it said. */
export function statusFailure(status: number, headers: Headers | undefined): LlmFailure {
  const wait = retryAfterMs(headers);
  return { kind: 'status', status, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
}

/** Longest wait a provider may ask for that we take literally; beyond it the caller's own cap applies. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * How long a provider asked us to wait before trying again, from `retry-after-ms` (OpenAI's)
 * or `retry-after` (seconds or an HTTP date, RFC 9110 §10.2.3); undefined when it did not say
 * or said something unusable.
 */
export function retryAfterMs(
  headers: { get(name: string): string | null } | undefined,
  now: number = Date.now(),
): number | undefined {
  const ms = headers?.get('retry-after-ms');
  const after = headers?.get('retry-after');
  let wait: number | undefined;
  if (ms !== null && ms !== undefined && ms.trim() !== '') wait = Number(ms);
  else if (after !== null && after !== undefined && after.trim() !== '') {
    const seconds = Number(after);
    wait = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(after) - now;
  }
  if (wait === undefined || !Number.isFinite(wait) || wait < 0) return undefined;
  return Math.min(Math.ceil(wait), MAX_RETRY_AFTER_MS);
}

/** A response that does not have the shape the provider's API promises. */
export function badResponse(providerId: string, what: string): AppError {
  return new AppError('LLM_BAD_RESPONSE', `${providerId}: ${what}`, { provider: providerId });
}
