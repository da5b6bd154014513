import type { DeliveryErrorCategory } from '../../contracts/outbox.ts';

/** How one attempt ended, as a transport reports it. */
export type DeliveryResult =
  | { ok: true; status: number | null }
  | {
      ok: false;
      category: DeliveryErrorCategory;
      status: number | null;
      /** From the receiver's `retry-after`, when it sent one. */
      retry_after_ms?: number;
      message: string;
    };

const TRANSIENT: ReadonlySet<DeliveryErrorCategory> = new Set([
  'network',
  'timeout',
  'rate_limit',
  'server',
]);

/** Transient failures are retried; the rest dead-letter at once (openclaw#33403 retried 4xx forever). */
export function isTransient(category: DeliveryErrorCategory): boolean {
  return TRANSIENT.has(category);
}

/**
 * What an HTTP answer means for delivery: 2xx delivered; 408 a timeout, 429 a rate limit and
 * 5xx a server fault (all retried); 401/403 auth and every other status invalid (permanent).
 * A redirect is not followed (the configured URL is the one destination) and counts as invalid.
 */
export function resultOfStatus(status: number, retryAfterMs?: number): DeliveryResult {
  if (status >= 200 && status < 300) return { ok: true, status };
  const category = categoryOfStatus(status);
  return {
    ok: false,
    category,
    status,
    ...(retryAfterMs === undefined ? {} : { retry_after_ms: retryAfterMs }),
    message: `the receiver answered ${status}`,
  };
}

function categoryOfStatus(status: number): DeliveryErrorCategory {
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limit';
  if (status >= 500) return 'server';
  if (status === 401 || status === 403) return 'auth';
  return 'invalid';
}
