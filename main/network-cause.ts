/**
 * Why a network request failed, in the words of the operating system or TLS: `ECONNREFUSED`,
 * `ENOTFOUND`, `ETIMEDOUT`, `CERT_HAS_EXPIRED`… Node's fetch wraps them as
 * `TypeError: fetch failed` with the real error in `cause` (sometimes an AggregateError of
 * several attempts); a message without the cause tells a person nothing they can fix.
 */
export function networkCause(error: unknown): string {
  let innermost = error instanceof Error && error.message !== '' ? error.message : undefined;
  for (
    let e: unknown = error, depth = 0;
    typeof e === 'object' && e !== null && depth < 5;
    depth++
  ) {
    const { code, errors, cause, name, message } = e as Record<string, unknown>;
    if (typeof code === 'string' && code !== '') return code;
    if (name === 'TimeoutError') return 'timed out';
    if (Array.isArray(errors) && errors.length > 0) return networkCause(errors[0]);
    if (typeof message === 'string' && message !== '') innermost = message;
    e = cause;
  }
  return innermost ?? 'unknown network error';
}
