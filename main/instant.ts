/**
 * Instants: points in time given as ISO 8601 strings. Callers may send any offset
 * (`2030-01-01T10:00:00+09:00`), and such strings do not order as text — `…T10:00+09:00`
 * is earlier than `…T05:00Z` — so every instant that arrives from outside is normalised to
 * UTC (`toISOString()` form) at the edge, and instants are compared as numbers, never as
 * strings (issue 17 #12).
 */

/** The UTC form (`YYYY-MM-DDTHH:mm:ss.sssZ`) of a valid ISO 8601 instant with any offset. */
export function toUtcInstant(iso: string): string {
  const ms = Date.parse(iso);
  // The edges validate with `z.iso.datetime`; reaching here with garbage is a bug.
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO 8601 instant: ${iso}`);
  return new Date(ms).toISOString();
}

/** Whether instant `a` is strictly earlier than instant `b` (ISO strings, any offsets). */
export function isBefore(a: string, b: string): boolean {
  return Date.parse(a) < Date.parse(b);
}

/** Whether `instant` (an ISO string with any offset) is at or before `now`. */
export function hasPassed(instant: string, now: Date): boolean {
  return Date.parse(instant) <= now.getTime();
}
