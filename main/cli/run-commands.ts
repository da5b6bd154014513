import type { Command } from 'commander';
import type { CompletionPredicate, Run } from '../../contracts/runs.ts';
import { AppError } from '../errors.ts';
import { completionOf, untilOption } from './completion-options.ts';
import { connect, print, table } from './cli-context.ts';
import { usageLine } from './inspect-commands.ts';
import { isolationLine, runIsolation } from './run-isolation.ts';
import { registerSteeringCommands } from './steering-commands.ts';
import { nonNegativeInt, pageLimit, positiveInt } from './option-parsers.ts';
import {
  createAndPrint,
  template,
  triggerFrom,
  triggerOptions,
  type TriggerOptions,
} from './schedule-commands.ts';

/** `ccos runs create|list|show|cancel|resume|note|interrupt`. */
export function registerRunCommands(program: Command): void {
  const runs = program.command('runs').description('create, watch and stop runs');

  const create = runs
    .command('create')
    .description(
      'create a run from a goal; it starts by itself (with --every or --cron: a schedule that starts one each time)',
    )
    .argument('<goal>', 'what the agent should achieve')
    .option('--session <id>', 'run in this session (default: a new one)')
    .option('--max-steps <n>', 'step budget', positiveInt('--max-steps'))
    .option('--max-tokens <n>', 'token budget', positiveInt('--max-tokens'))
    .option(
      '--max-wall-clock-ms <n>',
      'active time budget in ms',
      positiveInt('--max-wall-clock-ms'),
    )
    .option('--max-retries <n>', 'retry budget', nonNegativeInt('--max-retries'))
    .option('--idempotency-key <key>', 'create at most once for this key')
    .option(
      '--until <predicate>',
      "done only once this holds, not on the agent's word: capability:<tool>",
      untilOption,
    )
    .option(
      '--until-json-logic <file>',
      'done only once this JSON Logic rule over { memory, steps } holds',
    );
  triggerOptions(create, false).action(
    async (goal: string, opts: CreateOptions & TriggerOptions, command: Command) => {
      const completion = await completionOf(opts);
      const { client, json } = await connect(command);
      if (opts.every !== undefined || opts.cron !== undefined || opts.tz !== undefined) {
        // The shortcut for `ccos schedules create <goal> --every …`.
        if (opts.session !== undefined || opts.idempotencyKey !== undefined) {
          throw new AppError(
            'INVALID_INPUT',
            '--session and --idempotency-key apply to one run, not to a schedule; use `ccos schedules create --shared-session`',
          );
        }
        await createAndPrint(client, json, {
          trigger: triggerFrom(opts),
          target: { kind: 'start', template: template(goal, opts) },
        });
        return;
      }
      const budget = {
        ...(opts.maxSteps === undefined ? {} : { max_steps: opts.maxSteps }),
        ...(opts.maxTokens === undefined ? {} : { max_tokens: opts.maxTokens }),
        ...(opts.maxWallClockMs === undefined ? {} : { max_wall_clock_ms: opts.maxWallClockMs }),
        ...(opts.maxRetries === undefined ? {} : { max_retries: opts.maxRetries }),
      };
      const { status, value: run } = await client.send('createRun', {
        body: {
          goal,
          ...(opts.session === undefined ? {} : { session_id: opts.session }),
          ...(Object.keys(budget).length === 0 ? {} : { budget }),
          ...(completion === undefined ? {} : { completion }),
        },
        ...(opts.idempotencyKey === undefined
          ? {}
          : { headers: { 'idempotency-key': opts.idempotencyKey } }),
      });
      // 200 is an idempotent replay: the run this key created before, not a new one.
      const verb = status === 200 ? 'already created' : 'created';
      print(json, run, (r) => `${verb} ${r.id} (${r.state}) in session ${r.session_id}`);
      // On stderr, so `--json` output stays one document a script can parse.
      if (run.state === 'pending' && run.waiting_for === 'llm_provider')
        console.error(
          `warning: ${run.id} will not start: ${run.state_reason ?? 'no LLM provider'}`,
        );
    },
  );

  runs
    .command('list')
    .description('list runs, newest first')
    .option('--state <state>', 'only runs in this state')
    .option('--limit <n>', 'at most this many (1 to 1000)', pageLimit())
    .action(async (opts: { state?: Run['state']; limit?: number }, command: Command) => {
      const { client, json } = await connect(command);
      const page = await client.call('listRuns', {
        query: {
          ...(opts.state === undefined ? {} : { state: opts.state }),
          ...(opts.limit === undefined ? {} : { limit: opts.limit }),
        },
      });
      print(json, page, (p) =>
        table([
          ['ID', 'STATE', 'STEPS', 'CREATED', 'GOAL'],
          ...p.runs.map((r) => [
            r.id,
            r.state,
            `${r.usage.steps}/${r.budget.max_steps}`,
            r.created_at,
            r.goal.length > 50 ? `${r.goal.slice(0, 49)}…` : r.goal,
          ]),
        ]),
      );
    });

  runs
    .command('show')
    .description(
      'show a run: state, reason, budget, usage, goals, pending approvals, what its workers ran under',
    )
    .argument('<id>', 'run id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const detail = await client.call('getRun', { params: { id } });
      const isolation = await runIsolation(client, id);
      print(json, { ...detail, isolation }, ({ run, goals, pending_approvals, last_failure }) =>
        [
          `run      ${run.id}`,
          `state    ${run.state}${run.state_reason === null ? '' : ` (${run.state_reason})`}`,
          `session  ${run.session_id}`,
          `goal     ${run.goal}`,
          `budget   ${usageLine(run)}`,
          `goals    ${goals.map((g) => `#${g.ordinal} ${g.state}${untilText(g.predicate)}`).join(', ')}`,
          `pending  ${pending_approvals.length === 0 ? 'no approvals' : pending_approvals.map((a) => `${a.id} (${a.kind})`).join(', ')}`,
          ...(last_failure === null
            ? []
            : [
                `failure  ${last_failure.at}${last_failure.segment === null ? '' : ` in segment ${last_failure.segment}`}: ${last_failure.reason}`,
              ]),
          `workers  ${isolationLine(isolation)}`,
        ].join('\n'),
      );
    });

  for (const verb of ['cancel', 'resume'] as const) {
    runs
      .command(verb)
      .description(
        verb === 'cancel'
          ? 'cancel a run that has not ended'
          : 'resume a run paused for a schedule or an event',
      )
      .argument('<id>', 'run id')
      .option('--reason <text>', 'recorded on the causal chain')
      .action(async (id: string, opts: { reason?: string }, command: Command) => {
        const { client, json } = await connect(command);
        const body = opts.reason === undefined ? {} : { reason: opts.reason };
        const run = await client.call(verb === 'cancel' ? 'cancelRun' : 'resumeRun', {
          params: { id },
          body,
        });
        print(json, run, (r) => `${r.id} is now ${r.state}`);
      });
  }
  registerSteeringCommands(runs);
}

type CreateOptions = {
  session?: string;
  maxSteps?: number;
  maxTokens?: number;
  maxWallClockMs?: number;
  maxRetries?: number;
  idempotencyKey?: string;
  until?: CompletionPredicate;
  untilJsonLogic?: string;
};

/** ` (until …)`: what must hold before a goal is met, in the words `--until` takes. */
function untilText(predicate: CompletionPredicate | null): string {
  if (predicate === null) return '';
  switch (predicate.kind) {
    case 'capability_succeeded':
      return ` (until capability:${predicate.capability_id})`;
    case 'json_logic':
      return ' (until a JSON Logic rule holds)';
    case 'never':
      return ' (never met by a claim)';
  }
}
