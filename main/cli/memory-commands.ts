import type { Command } from 'commander';
import type { MemoryItem, MemoryPurgeRequest } from '../../contracts/memory.ts';
import { AppError } from '../errors.ts';
import { connect, print, table } from './cli-context.ts';

/** `ccos memory list|show|delete|purge`: governed memory as the person sees it (admin). */
export function registerMemoryCommands(program: Command): void {
  const memory = program
    .command('memory')
    .description(
      'governed memory: what agents and skills stored, with label, taint, source, audience and expiry (values redacted)',
    );

  memory
    .command('list')
    .description('memory items, optionally of one run, session or namespace')
    .option('--run <id>', 'only items written by this run')
    .option('--session <id>', 'only items written in this session')
    .option('--namespace <ns>', 'only items of this stored namespace (e.g. session:ses_…)')
    .option('--limit <n>', 'at most this many items (1-500, default 100)')
    .action(
      async (
        opts: { run?: string; session?: string; namespace?: string; limit?: string },
        command: Command,
      ) => {
        const { client, json } = await connect(command);
        const result = await client.call('listMemory', {
          query: {
            ...(opts.run === undefined ? {} : { run_id: opts.run }),
            ...(opts.session === undefined ? {} : { session_id: opts.session }),
            ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
            ...(opts.limit === undefined ? {} : { limit: Number(opts.limit) }),
          },
        });
        print(json, result, (r) => renderList(r.items));
      },
    );

  memory
    .command('show')
    .description('one item with its value (redacted; personal data shown to admin only)')
    .argument('<id>', 'memory item id (mem_…)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const item = await client.call('getMemoryItem', { params: { id } });
      print(json, item, renderItem);
    });

  memory
    .command('delete')
    .description('delete one item (recorded on the chain as memory.deleted)')
    .argument('<id>', 'memory item id (mem_…)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const result = await client.call('deleteMemoryItem', { params: { id } });
      print(json, result, () => `deleted ${id}`);
    });

  memory
    .command('purge')
    .description(
      'delete every item of one run, session or namespace (exactly one; recorded as memory.purged)',
    )
    .option('--run <id>', 'items written by this run')
    .option('--session <id>', 'items written in this session')
    .option('--namespace <ns>', 'items of this stored namespace')
    .action(
      async (opts: { run?: string; session?: string; namespace?: string }, command: Command) => {
        const scope = purgeScope(opts);
        const { client, json } = await connect(command);
        const result = await client.call('purgeMemory', { body: scope });
        print(json, result, (r) => `purged ${r.purged} item${r.purged === 1 ? '' : 's'}`);
      },
    );
}

function purgeScope(opts: {
  run?: string;
  session?: string;
  namespace?: string;
}): MemoryPurgeRequest {
  const given = [
    opts.run === undefined ? undefined : { run_id: opts.run },
    opts.session === undefined ? undefined : { session_id: opts.session },
    opts.namespace === undefined ? undefined : { namespace: opts.namespace },
  ].filter((s) => s !== undefined);
  const [scope] = given;
  if (given.length !== 1 || scope === undefined)
    throw new AppError('INVALID_INPUT', 'give exactly one of --run, --session or --namespace');
  return scope;
}

const labelText = (i: MemoryItem): string => (i.label.length === 0 ? 'public' : i.label.join('+'));

function renderList(items: readonly MemoryItem[]): string {
  if (items.length === 0) return 'no memory items';
  return table([
    ['ID', 'NAMESPACE', 'KEY', 'LABEL', 'TAINT', 'AUDIENCE', 'EXPIRES'],
    ...items.map((i) => [
      i.id,
      i.namespace,
      i.key,
      labelText(i),
      i.taint,
      i.audience_id === null ? i.audience : `${i.audience}:${i.audience_id}`,
      i.expires_at ?? '-',
    ]),
  ]);
}

function renderItem(i: MemoryItem): string {
  const source = `${i.source.kind}:${i.source.id}${i.source.version === null ? '' : `@${i.source.version}`}`;
  return [
    `${i.id}  ${i.namespace} / ${i.key}`,
    `label     ${labelText(i)}`,
    `taint     ${i.taint}`,
    `source    ${source}`,
    `audience  ${i.audience}${i.audience_id === null ? '' : ` ${i.audience_id}`}`,
    `written   ${i.updated_at} by run ${i.run_id ?? '-'} step ${i.step_id ?? '-'}`,
    `expires   ${i.expires_at ?? 'never'}`,
    `value${i.value_withheld ? ' (redacted)' : ''}`,
    JSON.stringify(i.value, null, 2),
  ].join('\n');
}
