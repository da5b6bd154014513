import type { OutboxSettings } from '../../contracts/outbox.ts';

/** A source of uniform numbers in [0, 1): `Math.random` in the host, a fixed sequence in tests. */
export type JitterSource = () => number;

/** The longest a receiver's `retry-after` may hold a message back: a receiver cannot park it forever. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * The delay before retry number `attempts + 1`, after `attempts` failed attempts
 * (docs/outbox.md): exponential backoff with full jitter,
 * `random() × min(max_delay_ms, base_delay_ms × 2^(attempts − 1))`, so hosts that failed
 * together do not retry together. A receiver's `retry-after` wins when it is given (capped
 * at `MAX_RETRY_AFTER_MS`): it knows when it will take the message again.
 */
export function retryDelayMs(
  attempts: number,
  settings: Pick<OutboxSettings, 'base_delay_ms' | 'max_delay_ms'>,
  jitter: JitterSource,
  retryAfterMs?: number,
): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), MAX_RETRY_AFTER_MS);
  const exponent = Math.min(Math.max(attempts - 1, 0), 52);
  const ceiling = Math.min(settings.max_delay_ms, settings.base_delay_ms * 2 ** exponent);
  return Math.floor(jitter() * ceiling);
}

/**
 * `retry-after` as milliseconds from `now`: delay-seconds or an HTTP date (RFC 9110 §10.2.3);
 * undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
