import { z } from 'zod';
import { BUDGET_CEILING, createRunInputSchema } from './runs.ts';

/**
 * Schedules (ARCHITECTURE.md §9, docs/scheduler.md): a trigger — a cron expression in a time
 * zone, an interval, or one instant — and a target — start a new run from a template, or
 * resume one run waiting in `paused_schedule`. Every instant a trigger names becomes exactly
 * one fire row, whatever happened to it (fired, skipped, buffered, refused, missed).
 */

const SECOND_MS = 1000;
const HOUR_MS = 60 * 60 * SECOND_MS;
const DAY_MS = 24 * HOUR_MS;

const isoInstant = z.iso.datetime({ offset: true });

/** An IANA time zone name the runtime knows (`Europe/Berlin`, `UTC`). */
export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(
    (zone) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    },
    { error: 'not an IANA time zone this host knows, e.g. Europe/Berlin or UTC' },
  );

/** Shortest interval of an `every` trigger: a fire is a transaction, not a busy loop. */
export const MIN_EVERY_MS = SECOND_MS;
export const MAX_EVERY_MS = 366 * DAY_MS;

export const scheduleTriggerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('cron'),
    /** 5 fields (minute precision) or 6 (seconds first), parsed and iterated by croner. */
    expression: z.string().trim().min(9).max(200),
    /** Wall-clock zone the expression is read in; DST follows croner (docs/scheduler.md). */
    timezone: timeZoneSchema.default('UTC'),
  }),
  z.strictObject({
    kind: z.literal('every'),
    /** Fires at `start_at + k·every_ms` (k ≥ 0), or `created_at + k·every_ms` (k ≥ 1). */
    every_ms: z.number().int().min(MIN_EVERY_MS).max(MAX_EVERY_MS),
  }),
  z.strictObject({ kind: z.literal('at'), at: isoInstant }),
]);
export type ScheduleTrigger = z.infer<typeof scheduleTriggerSchema>;

/** Where a `start` schedule's runs live: a new session each, or one session it keeps. */
export const sessionPolicySchema = z.enum(['new', 'shared']);

/** What a `start` fire creates: what `POST /v1/runs` takes, fixed in advance, minus the session. */
export const runTemplateSchema = createRunInputSchema.omit({ session_id: true }).extend({
  /** `shared`: every run of the schedule in one session (a busy session skips the fire). */
  session: sessionPolicySchema.default('new'),
});
export type RunTemplate = z.infer<typeof runTemplateSchema>;

export const scheduleTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('start'), template: runTemplateSchema }),
  /** Resumes this run whenever it waits in `paused_schedule`. */
  z.strictObject({ kind: z.literal('resume'), run_id: z.string().min(1).max(100) }),
]);
export type ScheduleTarget = z.infer<typeof scheduleTargetSchema>;

/** When the schedule's previous run (or its target run) is still busy at a fire. */
export const overlapPolicySchema = z.enum(['skip', 'buffer_one', 'allow']);
export type OverlapPolicy = z.infer<typeof overlapPolicySchema>;

/** Fires that came due while the host was down or asleep (docs/scheduler.md). */
export const catchUpPolicySchema = z.enum(['none', 'latest', 'all']);
export type CatchUpPolicy = z.infer<typeof catchUpPolicySchema>;

export const DEFAULT_CATCH_UP_WINDOW_MS = HOUR_MS;
export const MAX_CATCH_UP_WINDOW_MS = 30 * DAY_MS;
export const MAX_JITTER_MS = HOUR_MS;

/**
 * Budgets across fires: a schedule that starts runs may not start more than this, so an
 * every-minute schedule cannot mean 1,440 fresh budgets a day. Windows are the last 24 h.
 */
export const scheduleCapsSchema = z.strictObject({
  runs_per_day: z.number().int().min(1).max(100_000),
  /** Tokens all runs started in the last 24 h may spend together (their budgets are cut to fit). */
  tokens_per_day: z
    .number()
    .int()
    .min(1)
    .max(BUDGET_CEILING.max_tokens * 10),
  /** Runs of this schedule not yet ended, at most. */
  max_concurrent: z.number().int().min(1).max(10_000),
});
export type ScheduleCaps = z.infer<typeof scheduleCapsSchema>;

export const DEFAULT_SCHEDULE_CAPS: ScheduleCaps = {
  runs_per_day: 48,
  tokens_per_day: 1_000_000,
  max_concurrent: 1,
};

const noteSchema = z.string().trim().min(1).max(500);

export const createScheduleInputSchema = z
  .strictObject({
    trigger: scheduleTriggerSchema,
    target: scheduleTargetSchema,
    overlap: overlapPolicySchema.default('skip'),
    catch_up: catchUpPolicySchema.default('latest'),
    catch_up_window_ms: z
      .number()
      .int()
      .min(SECOND_MS)
      .max(MAX_CATCH_UP_WINDOW_MS)
      .default(DEFAULT_CATCH_UP_WINDOW_MS),
    /** Each fire is delayed by a stable amount in [0, jitter_ms], the same on every restart. */
    jitter_ms: z.number().int().min(0).max(MAX_JITTER_MS).default(0),
    /** No fire before this instant (inclusive). */
    start_at: isoInstant.optional(),
    /** No fire at or after this instant; the schedule ends there. */
    end_at: isoInstant.optional(),
    enabled: z.boolean().default(true),
    note: noteSchema.optional(),
    caps: scheduleCapsSchema.partial().optional(),
  })
  .refine(
    (s) =>
      s.start_at === undefined ||
      s.end_at === undefined ||
      Date.parse(s.start_at) < Date.parse(s.end_at),
    { error: 'start_at must be before end_at', path: ['end_at'] },
  );
export type CreateScheduleInput = z.input<typeof createScheduleInputSchema>;
export type ParsedCreateScheduleInput = z.output<typeof createScheduleInputSchema>;

/** `PATCH /v1/schedules/{id}`: any field but the target; `null` clears an optional one. */
export const updateScheduleInputSchema = z
  .strictObject({
    trigger: scheduleTriggerSchema.optional(),
    overlap: overlapPolicySchema.optional(),
    catch_up: catchUpPolicySchema.optional(),
    catch_up_window_ms: z.number().int().min(SECOND_MS).max(MAX_CATCH_UP_WINDOW_MS).optional(),
    jitter_ms: z.number().int().min(0).max(MAX_JITTER_MS).optional(),
    start_at: isoInstant.nullable().optional(),
    end_at: isoInstant.nullable().optional(),
    note: noteSchema.nullable().optional(),
    caps: scheduleCapsSchema.partial().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { error: 'nothing to change' });
export type UpdateScheduleInput = z.infer<typeof updateScheduleInputSchema>;

/** `paused` by a person; `ended` for good (its last instant passed, its run ended). */
export const scheduleStateSchema = z.enum(['active', 'paused', 'ended']);
export type ScheduleState = z.infer<typeof scheduleStateSchema>;

export const scheduleSchema = z.strictObject({
  id: z.string(),
  note: z.string().nullable(),
  trigger: scheduleTriggerSchema,
  target: scheduleTargetSchema,
  overlap: overlapPolicySchema,
  catch_up: catchUpPolicySchema,
  catch_up_window_ms: z.number().int(),
  jitter_ms: z.number().int(),
  start_at: z.string().nullable(),
  end_at: z.string().nullable(),
  caps: scheduleCapsSchema,
  state: scheduleStateSchema,
  /** Why it is paused or ended. */
  state_reason: z.string().nullable(),
  /** A follow-up an agent asked for belongs to its run and ends with it. */
  owner_run_id: z.string().nullable(),
  /** The next instant the trigger names that has no fire row yet; null when there is none. */
  next_fire_at: z.string().nullable(),
  /** `next_fire_at` plus its jitter: when the scheduler will fire it. */
  next_due_at: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Schedule = z.infer<typeof scheduleSchema>;

/**
 * What became of a fire. `buffered` waits for the busy run and then becomes `started` or
 * `resumed`; every other outcome is final.
 */
export const fireOutcomeSchema = z.enum([
  'started',
  'resumed',
  'buffered',
  'skipped',
  'refused',
  'missed',
]);
export type FireOutcome = z.infer<typeof fireOutcomeSchema>;

/** `schedule`: an instant of the trigger; `manual`: `POST /v1/schedules/{id}/trigger`. */
export const fireSourceSchema = z.enum(['schedule', 'manual']);
export type FireSource = z.infer<typeof fireSourceSchema>;

export const scheduleFireSchema = z.strictObject({
  schedule_id: z.string(),
  source: fireSourceSchema,
  /** The instant the trigger names (for a manual fire, when it was asked for). */
  instant: z.string(),
  /** `instant` plus jitter. */
  due_at: z.string(),
  /** When the host claimed the fire row. */
  claimed_at: z.string(),
  outcome: fireOutcomeSchema,
  reason: z.string().nullable(),
  run_id: z.string().nullable(),
  /** When the outcome became final (later than `claimed_at` for a buffered fire). */
  settled_at: z.string().nullable(),
});
export type ScheduleFire = z.infer<typeof scheduleFireSchema>;

export const scheduleDetailSchema = z.strictObject({
  schedule: scheduleSchema,
  /** The next five instants (with jitter) the scheduler will fire, oldest first. */
  next_fires: z.array(z.strictObject({ instant: z.string(), due_at: z.string() })),
  /** The newest fires, newest first. */
  recent_fires: z.array(scheduleFireSchema),
});
export type ScheduleDetail = z.infer<typeof scheduleDetailSchema>;

/**
 * `ccos/schedule.resume` on the agent channel: the worker asks to be resumed later (`at` an
 * instant or `after_ms` from now), or by a `resume` schedule that targets its run (neither).
 * The state is checkpointed, the run pauses and the follow-up is created in one transaction.
 */
export const MIN_FOLLOW_UP_MS = SECOND_MS;
export const MAX_FOLLOW_UP_MS = 30 * DAY_MS;
export const followUpRequestSchema = z
  .strictObject({
    at: isoInstant.optional(),
    after_ms: z.number().int().min(MIN_FOLLOW_UP_MS).max(MAX_FOLLOW_UP_MS).optional(),
    /** The checkpoint the resumed segment starts from. */
    state: z.unknown(),
    /** Why, in the agent's words (redacted, shown to the person). */
    reason: z.string().max(500).optional(),
    /** Wait for the session's next connector message instead of a time (issue 23). */
    until_message: z.literal(true).optional(),
  })
  .refine((r) => r.at === undefined || r.after_ms === undefined, {
    error: 'give at most one of "at" and "after_ms"',
  })
  .refine(
    (r) => r.until_message === undefined || (r.at === undefined && r.after_ms === undefined),
    {
      error: 'a run waits for a message or for a time, not both',
    },
  );
export type FollowUpRequest = z.infer<typeof followUpRequestSchema>;

export const followUpReplySchema = z.strictObject({
  /** The follow-up schedule; null when a `resume` schedule of the run wakes it. */
  schedule_id: z.string().nullable(),
  /** When the run resumes; null when it waits for a `resume` schedule. */
  resume_at: z.string().nullable(),
});
export type FollowUpReply = z.infer<typeof followUpReplySchema>;
