import { Cron } from 'croner';
import type { ScheduleTrigger } from '../../contracts/schedules.ts';
import { AppError } from '../errors.ts';

/** The instants a trigger names, in milliseconds since the epoch (UTC). */
export type TriggerInstants = {
  /** The first instant strictly after `afterMs`, or null when the trigger names no more. */
  next: (afterMs: number) => number | null;
};

/** What `every` counts from: `start_at` (first fire there) or the creation (first fire one interval later). */
export type TriggerAnchor = { start_at: string | null; created_at: string };

/**
 * Compiles a trigger into its instants. Cron expressions are parsed and iterated by croner
 * (5 or 6 fields, read in the trigger's IANA zone); across DST changes the instants are the
 * ones croner defines (docs/scheduler.md lists them as fixed UTC instants). A bad expression
 * is INVALID_INPUT naming `trigger.expression`.
 */
export function compileTrigger(trigger: ScheduleTrigger, anchor: TriggerAnchor): TriggerInstants {
  switch (trigger.kind) {
    case 'cron': {
      const cron = parseCron(trigger.expression, trigger.timezone);
      return { next: (afterMs) => cron.nextRun(new Date(afterMs))?.getTime() ?? null };
    }
    case 'every': {
      const every = trigger.every_ms;
      const base = Date.parse(anchor.start_at ?? anchor.created_at);
      const first = anchor.start_at === null ? 1 : 0;
      return {
        next: (afterMs) => {
          const k = Math.max(first, Math.floor((afterMs - base) / every) + 1);
          return base + k * every;
        },
      };
    }
    case 'at': {
      const at = Date.parse(trigger.at);
      return { next: (afterMs) => (at > afterMs ? at : null) };
    }
  }
}

/** A paused croner job: it only computes instants, it never starts a timer of its own. */
function parseCron(expression: string, timezone: string): Cron {
  try {
    const cron = new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' });
    // Reading one instant also checks the zone, which croner only resolves lazily.
    cron.nextRun(new Date(0));
    return cron;
  } catch (e) {
    throw new AppError(
      'INVALID_INPUT',
      `invalid schedule: trigger.expression: ${e instanceof Error ? e.message : String(e)}`,
      {
        fields: [
          {
            path: 'trigger.expression',
            message: 'expected 5 fields (minute hour day month weekday) or 6 (seconds first)',
          },
        ],
      },
    );
  }
}
