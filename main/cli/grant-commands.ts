import type { Command } from 'commander';
import { Option } from 'commander';
import type { GrantRequest } from '../../contracts/grant-request.ts';
import { grantStateSchema, type Grant } from '../../contracts/grants.ts';
import { AppError } from '../errors.ts';
import { connect, print, table } from './cli-context.ts';
import { duration } from './duration.ts';
import { positiveInt } from './option-parsers.ts';

/** The `approvals approve` options that make the approval a standing grant (issue 22). */
export type GrantOptions = {
  grant?: 'run' | 'schedule';
  uses?: number;
  for?: number;
  until?: string;
};

/** Adds `--grant`, `--uses`, `--for` and `--until` to `ccos approvals approve`. */
export function addGrantOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--grant <scope>',
        'also let later calls of this operation, under the same permissions, through without asking: for this run, or for the runs of its schedule',
      ).choices(['run', 'schedule']),
    )
    .option(
      '--uses <n>',
      'with --grant: at most this many later calls (default: any until it expires)',
      positiveInt('--uses'),
    )
    .option(
      '--for <duration>',
      'with --grant: it expires after this long (e.g. 4h, 7d)',
      duration('--for'),
    )
    .option(
      '--until <instant>',
      "with --grant: it expires at this ISO instant (default and cap: the pack's maximum, 30 days)",
    );
}

/** The decision's `grant`, or undefined without `--grant`; a grant option alone is a usage error. */
export function grantRequestOf(opts: GrantOptions, now: Date): GrantRequest | undefined {
  if (opts.grant === undefined) {
    if (opts.uses !== undefined || opts.for !== undefined || opts.until !== undefined)
      throw new AppError('INVALID_INPUT', '--uses, --for and --until need --grant run|schedule');
    return undefined;
  }
  if (opts.for !== undefined && opts.until !== undefined)
    throw new AppError('INVALID_INPUT', 'give --for or --until, not both');
  const until =
    opts.for !== undefined ? new Date(now.getTime() + opts.for).toISOString() : opts.until;
  return {
    scope: opts.grant,
    ...(opts.uses === undefined ? {} : { uses: opts.uses }),
    ...(until === undefined ? {} : { until }),
  };
}

/** `ccos grants list|show|revoke`. */
export function registerGrantCommands(program: Command): void {
  const grants = program
    .command('grants')
    .description('standing approvals: what later calls may do without asking again');
  grants
    .command('list')
    .description('list grants (active ones unless --state says otherwise)')
    .addOption(
      new Option('--state <state>', 'grants in this state, or all').choices([
        ...grantStateSchema.options,
        'all',
      ]),
    )
    .option('--run <id>', 'grants made in this run')
    .option('--schedule <id>', "grants covering this schedule's runs")
    .action(async (opts: { state?: string; run?: string; schedule?: string }, command: Command) => {
      const { client, json } = await connect(command);
      const state = opts.state ?? 'active';
      const page = await client.call('listGrants', {
        query: {
          ...(state === 'all' ? {} : { state: grantStateSchema.parse(state) }),
          ...(opts.run === undefined ? {} : { run_id: opts.run }),
          ...(opts.schedule === undefined ? {} : { schedule_id: opts.schedule }),
        },
      });
      print(json, page, (p) =>
        table([
          ['ID', 'STATE', 'TOOL', 'VERSION', 'SCOPE', 'USES', 'EXPIRES'],
          ...p.grants.map((g) => [
            g.id,
            g.state,
            g.tool,
            g.skill_version,
            scopeOf(g),
            usesOf(g),
            g.expires_at,
          ]),
        ]),
      );
    });
  grants
    .command('show')
    .description('one grant: what it covers, its uses and expiry')
    .argument('<id>', 'grant id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const grant = await client.call('getGrant', { params: { id } });
      print(json, grant, renderGrant);
    });
  grants
    .command('revoke')
    .description('revoke a grant at once: the next call it covered asks a person')
    .argument('<id>', 'grant id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const grant = await client.call('revokeGrant', { params: { id } });
      print(
        json,
        grant,
        (g) => `${g.id} revoked at ${g.revoked_at ?? '?'} after ${usesOf(g)} uses`,
      );
    });
}

function scopeOf(g: Grant): string {
  return g.scope === 'run' ? `run ${g.run_id}` : `schedule ${g.schedule_id ?? '?'}`;
}

function usesOf(g: Grant): string {
  return g.max_uses === null ? `${g.uses}` : `${g.uses}/${g.max_uses}`;
}

/** `ccos grants show`, and what `approvals approve --grant` prints. */
export function renderGrant(g: Grant): string {
  return [
    `grant    ${g.id} (${g.state})`,
    `covers   ${g.tool} of ${g.skill_id} ${g.skill_version}${g.taint_gated ? ', taint-gated calls' : ''}`,
    `scope    ${scopeOf(g)}`,
    `uses     ${usesOf(g)}`,
    `expires  ${g.expires_at}`,
    `made     ${g.created_at} by ${g.created_by} (approval ${g.approval_id})`,
    ...(g.revoked_at === null ? [] : [`revoked  ${g.revoked_at} by ${g.revoked_by ?? '?'}`]),
    'permissions',
    ...g.permission_diff.map((c) => `  ${c.permission}: ${JSON.stringify(c.to)}`),
  ].join('\n');
}
