import type { Command } from 'commander';
import type { AgentsStatus } from '../../contracts/agents.ts';
import { connect, print } from './cli-context.ts';
import { positiveInt } from './option-parsers.ts';

/** `ccos agents status|pause|resume|limits`: the host-wide kill switch and caps. */
export function registerAgentCommands(program: Command): void {
  const agents = program
    .command('agents')
    .description('stop or start every agent at once; host-wide caps (admin)');

  agents
    .command('status')
    .description('whether agents are paused, the caps, tokens used today, runs running')
    .action(async (_opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      print(json, await client.call('getAgents'), renderStatus);
    });

  agents
    .command('pause')
    .description('pause every agent: no run starts, running ones stop at their next step')
    .option('--reason <text>', 'shown on every waiting run and recorded on the chain')
    .action(async (opts: { reason?: string }, command: Command) => {
      const { client, json } = await connect(command);
      const status = await client.call('pauseAgents', {
        body: opts.reason === undefined ? {} : { reason: opts.reason },
      });
      print(
        json,
        status,
        (s) => `agents paused; \`ccos agents resume\` undoes it\n${renderStatus(s)}`,
      );
    });

  agents
    .command('resume')
    .description('let agents run again after a pause')
    .action(async (_opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const status = await client.call('resumeAgents');
      print(json, status, (s) => `agents resumed\n${renderStatus(s)}`);
    });

  agents
    .command('limits')
    .description('set host-wide caps; "none" removes one')
    .option(
      '--max-concurrent-runs <n|none>',
      'segments running at once',
      capOption('--max-concurrent-runs'),
    )
    .option(
      '--max-tokens-per-day <n|none>',
      'LLM tokens all runs may use per UTC day',
      capOption('--max-tokens-per-day'),
    )
    .action(
      async (opts: { maxConcurrentRuns?: number; maxTokensPerDay?: number }, command: Command) => {
        const { client, json } = await connect(command);
        const status = await client.call('setAgentLimits', {
          body: {
            ...(opts.maxConcurrentRuns === undefined
              ? {}
              : { max_concurrent_runs: capOf(opts.maxConcurrentRuns) }),
            ...(opts.maxTokensPerDay === undefined
              ? {}
              : { max_tokens_per_day: capOf(opts.maxTokensPerDay) }),
          },
        });
        print(json, status, renderStatus);
      },
    );
}

/** A positive whole number, or `none` (0 here: commander drops a null) to remove the cap. */
function capOption(flag: string): (value: string) => number {
  const parse = positiveInt(flag);
  return (value) => (value.trim().toLowerCase() === 'none' ? NONE : parse(value));
}

const NONE = 0;
const capOf = (n: number | undefined): number | null | undefined => (n === NONE ? null : n);

function renderStatus(s: AgentsStatus): string {
  const cap = (n: number | null) => (n === null ? 'no cap' : String(n));
  return [
    `agents    ${s.paused ? `PAUSED by ${s.paused_by ?? '?'} at ${s.paused_at ?? '?'}${s.paused_reason === null ? '' : ` (${s.paused_reason})`}` : 'running'}`,
    `runs      ${s.running} running (max_concurrent_runs: ${cap(s.max_concurrent_runs)})`,
    `tokens    ${s.tokens_today} today (max_tokens_per_day: ${cap(s.max_tokens_per_day)}; the day resets at ${s.day_resets_at})`,
  ].join('\n');
}
