const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "3 min ago", "2 h ago", "5 d ago" from an ISO time. */
export function age(iso: string, now: number = Date.now()): string {
  const ms = Math.max(0, now - Date.parse(iso));
  if (ms < MINUTE) return `${Math.round(ms / SECOND)} s ago`;
  if (ms < HOUR) return `${Math.round(ms / MINUTE)} min ago`;
  if (ms < DAY) return `${Math.round(ms / HOUR)} h ago`;
  return `${Math.round(ms / DAY)} d ago`;
}

/** A duration in the largest unit that keeps it readable. */
export function duration(ms: number): string {
  if (ms < MINUTE) return `${Math.round(ms / SECOND)} s`;
  if (ms < HOUR) return `${Math.round(ms / MINUTE)} min`;
  return `${(ms / HOUR).toFixed(1)} h`;
}

/** Local date and time of an ISO instant. */
export function when(iso: string): string {
  return new Date(iso).toLocaleString();
}
