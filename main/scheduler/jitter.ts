import { createHash } from 'node:crypto';

/**
 * The delay of one fire within `[0, maxMs]`: a hash of the schedule id and the instant, so
 * it spreads schedules that share an instant (every top of the hour) and is the same after
 * every restart — a crash cannot move a fire, and two hosts compute the same due time.
 */
export function jitterMs(scheduleId: string, instantMs: number, maxMs: number): number {
  if (maxMs <= 0) return 0;
  const digest = createHash('sha256').update(`${scheduleId}\n${instantMs}`).digest();
  // 48 bits are plenty for any jitter up to an hour and stay exact in a double.
  return digest.readUIntBE(0, 6) % (maxMs + 1);
}
