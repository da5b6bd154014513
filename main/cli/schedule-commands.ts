import { Option, type Command } from 'commander';
import type { BudgetRequest } from '../../contracts/runs.ts';
import {
  catchUpPolicySchema,
  overlapPolicySchema,
  scheduleStateSchema,
  type CatchUpPolicy,
  type CreateScheduleInput,
  type OverlapPolicy,
  type Schedule,
  type ScheduleFire,
  type ScheduleTrigger,
} from '../../contracts/schedules.ts';
import { AppError } from '../errors.ts';
import type { ApiClient } from '../gateway-client/api-client.ts';
import { connect, print, table } from './cli-context.ts';
import { duration, formatDuration } from './duration.ts';
import { nonNegativeInt, pageLimit, positiveInt } from './option-parsers.ts';

/** The trigger flags `schedules create` and `runs create` share. */
export type TriggerOptions = { cron?: string; tz?: string; every?: number; at?: string };

/** Adds `--cron`, `--tz`, `--every` and `--at` to a command. */
export function triggerOptions(command: Command, withAt: boolean): Command {
  command
    .option('--cron <expression>', 'cron: 5 fields, or 6 with seconds first (e.g. "0 8 * * 1-5")')
    .option('--tz <zone>', 'IANA time zone the cron expression is read in (default UTC)')
    .option('--every <duration>', 'an interval, e.g. 30m, 4h, 1d', duration('--every'));
  if (withAt)
    command.option('--at <instant>', 'one ISO 8601 instant, e.g. 2026-12-24T18:00:00+01:00');
  return command;
}

/** The one trigger the flags name; a usage error unless exactly one is given. */
export function triggerFrom(opts: TriggerOptions): ScheduleTrigger {
  const given = [opts.cron, opts.every, opts.at].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw new AppError('INVALID_INPUT', 'give exactly one of --cron, --every and --at');
  if (opts.tz !== undefined && opts.cron === undefined)
    throw new AppError('INVALID_INPUT', '--tz applies to --cron only');
  if (opts.cron !== undefined)
    return { kind: 'cron', expression: opts.cron, timezone: opts.tz ?? 'UTC' };
  if (opts.every !== undefined) return { kind: 'every', every_ms: opts.every };
  return { kind: 'at', at: opts.at ?? '' };
}

/** Creates a schedule and prints it with its next fires. */
export async function createAndPrint(
  client: ApiClient,
  json: boolean,
  body: CreateScheduleInput,
): Promise<void> {
  const schedule = await client.call('createSchedule', { body });
  print(json, schedule, (s) => `created ${s.id} (${s.state}): ${describe(s)}\n${nextLine(s)}`);
}

/** `ccos schedules list|create|show|pause|resume|trigger|delete`. */
export function registerScheduleCommands(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('schedules that start runs or resume paused ones');

  schedules
    .command('list')
    .description('list schedules, newest first')
    .addOption(
      new Option('--state <state>', 'only schedules in this state').choices(
        scheduleStateSchema.options,
      ),
    )
    .option('--limit <n>', 'at most this many (1 to 1000)', pageLimit())
    .action(async (opts: { state?: Schedule['state']; limit?: number }, command: Command) => {
      const { client, json } = await connect(command);
      const result = await client.call('listSchedules', {
        query: {
          ...(opts.state === undefined ? {} : { state: opts.state }),
          ...(opts.limit === undefined ? {} : { limit: opts.limit }),
        },
      });
      print(json, result, (r) =>
        table([
          ['ID', 'STATE', 'TRIGGER', 'TARGET', 'NEXT DUE'],
          ...r.schedules.map((s) => [
            s.id,
            s.state,
            triggerText(s.trigger),
            targetText(s),
            s.next_due_at ?? '-',
          ]),
        ]),
      );
    });

  const create = schedules
    .command('create')
    .description('create a schedule: start a run from a goal, or resume a paused run (--resume)')
    .argument('[goal]', 'the goal each fire starts a run for')
    .option('--resume <run id>', 'resume this run whenever it waits in paused_schedule')
    .addOption(
      new Option('--overlap <policy>', 'while the previous run is busy (default skip)').choices(
        overlapPolicySchema.options,
      ),
    )
    .addOption(
      new Option('--catch-up <policy>', 'fires missed while down (default latest)').choices(
        catchUpPolicySchema.options,
      ),
    )
    .option(
      '--catch-up-window <duration>',
      'how far back catch-up reaches (default 1h)',
      duration('--catch-up-window'),
    )
    .option(
      '--jitter <duration>',
      'delay each fire by a stable amount up to this',
      duration('--jitter'),
    )
    .option('--start-at <instant>', 'no fire before this instant')
    .option('--end-at <instant>', 'no fire from this instant on')
    .option('--paused', 'create it paused')
    .option('--note <text>', 'a note for people')
    .option('--shared-session', 'run every fire in one session instead of a new one each')
    .option('--runs-per-day <n>', 'cap: runs started in any 24 h', positiveInt('--runs-per-day'))
    .option(
      '--tokens-per-day <n>',
      'cap: tokens of runs started in any 24 h',
      positiveInt('--tokens-per-day'),
    )
    .option(
      '--max-concurrent <n>',
      'cap: runs of this schedule not yet ended',
      positiveInt('--max-concurrent'),
    );
  triggerOptions(create, true);
  budgetOptions(create).action(
    async (goal: string | undefined, opts: CreateOptions, command: Command) => {
      const { client, json } = await connect(command);
      if ((goal === undefined) === (opts.resume === undefined))
        throw new AppError(
          'INVALID_INPUT',
          'give a goal to start runs, or --resume <run id>, not both',
        );
      const caps = {
        ...(opts.runsPerDay === undefined ? {} : { runs_per_day: opts.runsPerDay }),
        ...(opts.tokensPerDay === undefined ? {} : { tokens_per_day: opts.tokensPerDay }),
        ...(opts.maxConcurrent === undefined ? {} : { max_concurrent: opts.maxConcurrent }),
      };
      const body: CreateScheduleInput = {
        trigger: triggerFrom(opts),
        target:
          opts.resume === undefined
            ? { kind: 'start', template: template(goal ?? '', opts, opts.sharedSession === true) }
            : { kind: 'resume', run_id: opts.resume },
        ...(opts.overlap === undefined ? {} : { overlap: opts.overlap }),
        ...(opts.catchUp === undefined ? {} : { catch_up: opts.catchUp }),
        ...(opts.catchUpWindow === undefined ? {} : { catch_up_window_ms: opts.catchUpWindow }),
        ...(opts.jitter === undefined ? {} : { jitter_ms: opts.jitter }),
        ...(opts.startAt === undefined ? {} : { start_at: opts.startAt }),
        ...(opts.endAt === undefined ? {} : { end_at: opts.endAt }),
        ...(opts.paused === true ? { enabled: false } : {}),
        ...(opts.note === undefined ? {} : { note: opts.note }),
        ...(Object.keys(caps).length === 0 ? {} : { caps }),
      };
      await createAndPrint(client, json, body);
    },
  );

  schedules
    .command('show')
    .description('show a schedule: trigger, target, policies, next five fires, recent fires')
    .argument('<id>', 'schedule id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const detail = await client.call('getSchedule', { params: { id } });
      print(json, detail, ({ schedule: s, next_fires, recent_fires }) =>
        [
          `schedule ${s.id}`,
          `state    ${s.state}${s.state_reason === null ? '' : ` (${s.state_reason})`}`,
          `trigger  ${triggerText(s.trigger)}`,
          `target   ${targetText(s)}`,
          `policies overlap ${s.overlap}, catch-up ${s.catch_up} within ${formatDuration(s.catch_up_window_ms)}, jitter ${formatDuration(s.jitter_ms)}`,
          `caps     ${s.caps.runs_per_day} runs/day, ${s.caps.tokens_per_day} tokens/day, ${s.caps.max_concurrent} at once`,
          ...(s.note === null ? [] : [`note     ${s.note}`]),
          '',
          'next fires:',
          next_fires.length === 0
            ? '  (none)'
            : next_fires
                .map(
                  (f) => `  ${f.due_at}${f.due_at === f.instant ? '' : ` (instant ${f.instant})`}`,
                )
                .join('\n'),
          '',
          'recent fires:',
          fireTable(recent_fires),
        ].join('\n'),
      );
    });

  schedules
    .command('pause')
    .description('pause a schedule: no fires until it is resumed')
    .argument('<id>', 'schedule id')
    .option('--reason <text>', 'recorded on the causal chain')
    .action(async (id: string, opts: { reason?: string }, command: Command) => {
      const { client, json } = await connect(command);
      const schedule = await client.call('pauseSchedule', {
        params: { id },
        body: opts.reason === undefined ? {} : { reason: opts.reason },
      });
      print(json, schedule, (s) => `${s.id} is now ${s.state}`);
    });

  schedules
    .command('resume')
    .description('resume a paused schedule from its next instant after now')
    .argument('<id>', 'schedule id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const schedule = await client.call('resumeSchedule', { params: { id } });
      print(json, schedule, (s) => `${s.id} is now ${s.state}\n${nextLine(s)}`);
    });

  schedules
    .command('trigger')
    .description('fire a schedule once now, under its overlap policy and caps')
    .argument('<id>', 'schedule id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const fire = await client.call('triggerSchedule', { params: { id } });
      print(json, fire, (f) => `fired ${f.schedule_id}: ${fireText(f)}`);
    });

  schedules
    .command('delete')
    .description('delete a schedule; its fires and runs stay on record')
    .argument('<id>', 'schedule id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const result = await client.call('deleteSchedule', { params: { id } });
      print(json, result, (r) => `deleted ${r.schedule_id}`);
    });
}

type BudgetFlags = {
  maxSteps?: number;
  maxTokens?: number;
  maxWallClockMs?: number;
  maxRetries?: number;
};

type CreateOptions = TriggerOptions &
  BudgetFlags & {
    resume?: string;
    /** Commander checked it against the choices. */
    overlap?: OverlapPolicy;
    catchUp?: CatchUpPolicy;
    catchUpWindow?: number;
    jitter?: number;
    startAt?: string;
    endAt?: string;
    paused?: boolean;
    note?: string;
    sharedSession?: boolean;
    runsPerDay?: number;
    tokensPerDay?: number;
    maxConcurrent?: number;
  };

function budgetOptions(command: Command): Command {
  return command
    .option('--max-steps <n>', 'step budget of each run', positiveInt('--max-steps'))
    .option('--max-tokens <n>', 'token budget of each run', positiveInt('--max-tokens'))
    .option(
      '--max-wall-clock-ms <n>',
      'active time budget of each run',
      positiveInt('--max-wall-clock-ms'),
    )
    .option('--max-retries <n>', 'retry budget of each run', nonNegativeInt('--max-retries'));
}

/** A `start` template from a goal and the budget flags. */
export function template(goal: string, opts: BudgetFlags, shared = false) {
  const budget: BudgetRequest = {
    ...(opts.maxSteps === undefined ? {} : { max_steps: opts.maxSteps }),
    ...(opts.maxTokens === undefined ? {} : { max_tokens: opts.maxTokens }),
    ...(opts.maxWallClockMs === undefined ? {} : { max_wall_clock_ms: opts.maxWallClockMs }),
    ...(opts.maxRetries === undefined ? {} : { max_retries: opts.maxRetries }),
  };
  return {
    goal,
    ...(Object.keys(budget).length === 0 ? {} : { budget }),
    ...(shared ? { session: 'shared' as const } : {}),
  };
}

function triggerText(trigger: ScheduleTrigger): string {
  switch (trigger.kind) {
    case 'cron':
      return `cron "${trigger.expression}" ${trigger.timezone}`;
    case 'every':
      return `every ${formatDuration(trigger.every_ms)}`;
    case 'at':
      return `at ${trigger.at}`;
  }
}

function targetText(s: Schedule): string {
  if (s.target.kind === 'resume') return `resume ${s.target.run_id}`;
  const goal = s.target.template.goal;
  return `start "${goal.length > 40 ? `${goal.slice(0, 39)}…` : goal}"`;
}

function describe(s: Schedule): string {
  return `${triggerText(s.trigger)} → ${targetText(s)}`;
}

function nextLine(s: Schedule): string {
  return s.next_due_at === null ? 'no further fire' : `next fire ${s.next_due_at}`;
}

function fireText(f: ScheduleFire): string {
  const run = f.run_id === null ? '' : ` ${f.run_id}`;
  return `${f.outcome}${run}${f.reason === null ? '' : ` (${f.reason})`}`;
}

function fireTable(fires: readonly ScheduleFire[]): string {
  return table([
    ['INSTANT', 'SOURCE', 'CLAIMED', 'OUTCOME', 'RUN', 'REASON'],
    ...fires.map((f) => [
      f.instant,
      f.source,
      f.claimed_at,
      f.outcome,
      f.run_id ?? '-',
      f.reason ?? '',
    ]),
  ]);
}
