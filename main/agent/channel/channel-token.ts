import { createHash, timingSafeEqual } from 'node:crypto';

/** The `params._meta` key carrying the worker's agent-session token on every message. */
export const TOKEN_META_KEY = 'ccos_token';

/** The token a JSON-RPC message carries in `params._meta`, if any. */
export function tokenOf(params: unknown): unknown {
  if (typeof params !== 'object' || params === null) return undefined;
  const meta = (params as { _meta?: unknown })._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  return (meta as Record<string, unknown>)[TOKEN_META_KEY];
}

/**
 * Constant-time token check. Both sides are hashed first so neither the content nor the
 * length of the expected token leaks through timing (timingSafeEqual needs equal lengths).
 */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
