import type { Command } from 'commander';
import { Option } from 'commander';
import { adapterKindSchema } from '../../contracts/connector-adapter.ts';
import { connect, print, table } from './cli-context.ts';

type AddOptions = {
  adapter: 'webhook' | 'local_chat';
  auth?: 'hmac' | 'bearer';
  goal: string;
  mention?: string[];
  keyword?: string[];
  allow?: string[];
  pack?: string;
  rotate?: boolean;
  outboundUrl?: string;
};

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `ccos connectors list|add|show|remove|test` (issue 23): connectors' adapters. */
export function registerConnectorCommands(program: Command): void {
  const connectors = program
    .command('connectors')
    .description(
      'connectors: adapters that let external systems (a webhook, the local chat) wake agents',
    );
  connectors
    .command('list')
    .description("list connectors' adapters")
    .action(async (_opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const list = await client.call('listConnectorAdapters', {});
      print(json, list, (l) =>
        table([
          ['ID', 'ADAPTER', 'AUTH', 'UPDATED'],
          ...l.adapters.map((a) => [a.connector_id, a.adapter, a.inbound_auth.mode, a.updated_at]),
        ]),
      );
    });
  connectors
    .command('add')
    .description(
      "configure a connector's adapter; a new HMAC key or bearer token is printed once (store it now)",
    )
    .argument('<id>', 'connector id')
    .addOption(
      new Option('--adapter <kind>', 'adapter')
        .choices(adapterKindSchema.options)
        .default('webhook'),
    )
    .addOption(new Option('--auth <mode>', 'webhook inbound proof').choices(['hmac', 'bearer']))
    .requiredOption('--goal <text>', 'goal of the run a message creates when its session has none')
    .option(
      '--mention <name>',
      'a group message mentioning this name activates (repeatable)',
      collect,
    )
    .option('--keyword <word>', 'a group message with this word activates (repeatable)', collect)
    .option('--allow <sender>', 'a group sender allowed to activate (repeatable)', collect)
    .option('--pack <id>', "policy pack of its runs (one of the connector record's)")
    .option('--rotate', 'make a new secret even if one exists')
    .option(
      '--outbound-url <url>',
      "webhook: where agents' messages are POSTed (https; http only to loopback when the host allows it)",
    )
    .action(async (id: string, opts: AddOptions, command: Command) => {
      const { client, json } = await connect(command);
      const result = await client.call('putConnectorAdapter', {
        params: { id },
        query: opts.rotate === true ? { rotate: 'true' } : {},
        body: {
          adapter: opts.adapter,
          inbound_auth:
            opts.adapter === 'local_chat' ? { mode: 'person' } : { mode: opts.auth ?? 'hmac' },
          activation: {
            mention_names: opts.mention ?? [],
            keywords: opts.keyword ?? [],
            group_sender_allowlist: opts.allow ?? [],
          },
          template: {
            goal: opts.goal,
            ...(opts.pack === undefined ? {} : { policy_pack: opts.pack }),
          },
          ...(opts.outboundUrl === undefined ? {} : { outbound_url: opts.outboundUrl }),
        },
      });
      print(json, result, (r) =>
        [
          `connector ${r.config.connector_id}: ${r.config.adapter}, inbound ${r.config.inbound_auth.mode}`,
          ...(r.config.outbound_url === undefined ? [] : [`outbound ${r.config.outbound_url}`]),
          ...(r.secret === null ? [] : [`secret (shown once): ${r.secret}`]),
        ].join('\n'),
      );
    });
  connectors
    .command('show')
    .description("a connector's adapter, its health and its channel connections")
    .argument('<id>', 'connector id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const shown = await client.call('getConnectorAdapter', { params: { id } });
      print(json, shown, (s) =>
        [
          `connector ${s.config.connector_id}: ${s.config.adapter}, inbound ${s.config.inbound_auth.mode}`,
          `health    ${s.health.ok ? 'ok' : `${s.health.category ?? '?'}: ${s.health.detail ?? ''}`}`,
          table([
            ['CHANNEL', 'STATE', 'APPROVAL', 'SESSION'],
            ...s.connections.map((c) => [
              c.channel_id,
              c.state,
              c.approval_id ?? '-',
              c.session_id,
            ]),
          ]),
        ].join('\n'),
      );
    });
  connectors
    .command('remove')
    .description("remove a connector's adapter and its secret (its history stays)")
    .argument('<id>', 'connector id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const removed = await client.call('deleteConnectorAdapter', { params: { id } });
      print(json, removed, () => `connector ${id}: adapter removed`);
    });
  connectors
    .command('test')
    .description(
      "check a connector's proof, parse and activation with a sample message (nothing stored)",
    )
    .argument('<id>', 'connector id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const result = await client.call('testConnectorAdapter', { params: { id } });
      print(json, result, (r) =>
        table([
          ['CHECK', 'OK', 'DETAIL'],
          ...r.checks.map((c) => [c.check, c.ok ? 'yes' : 'NO', c.detail ?? '']),
        ]),
      );
      if (!result.checks.every((c) => c.ok)) process.exitCode = 1;
    });
}
