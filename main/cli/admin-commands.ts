import type { Command } from 'commander';
import type { TokenScope } from '../../contracts/tokens.ts';
import { approvalSubject, renderApproval, timeLeft } from './approval-view.ts';
import { chainVerify, registerChainExport } from './chain-commands.ts';
import { connect, print, table } from './cli-context.ts';
import {
  addGrantOptions,
  grantRequestOf,
  renderGrant,
  type GrantOptions,
} from './grant-commands.ts';

/** `ccos approvals …`, `ccos tokens …`, `ccos chain verify`. */
export function registerAdminCommands(program: Command): void {
  const approvals = program.command('approvals').description('see and decide what agents ask for');
  approvals
    .command('list')
    .description('list pending approvals')
    .action(async (_opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const page = await client.call('listApprovals');
      print(json, page, (p) =>
        table([
          ['ID', 'KIND', 'RUN', 'WHAT', 'EXPIRES'],
          ...p.approvals.map((a) => [a.id, a.kind, a.run_id, approvalSubject(a), timeLeft(a)]),
        ]),
      );
    });
  approvals
    .command('show')
    .description('one approval: the tool, its arguments (redacted), the request, budget impact')
    .argument('<id>', 'approval id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const approval = await client.call('getApproval', { params: { id } });
      const detail = await client.call('getRun', { params: { id: approval.run_id } });
      print(json, approval, (a) => renderApproval(a, detail.run));
    });
  // One word with the API (`decision: deny`); `reject` stays as the alias people type.
  for (const [verb, decision, alias] of [
    ['approve', 'approve', undefined],
    ['deny', 'deny', 'reject'],
  ] as const) {
    const cmd = approvals.command(verb);
    if (alias !== undefined) cmd.alias(alias);
    if (decision === 'approve') addGrantOptions(cmd);
    cmd
      .description(
        `${verb} a pending approval (final)${alias === undefined ? '' : `; alias: ${alias}`}`,
      )
      .argument('<id>', 'approval id')
      .option('--reason <text>', 'recorded with the decision')
      .action(async (id: string, opts: { reason?: string } & GrantOptions, command: Command) => {
        // Checked before connecting: a usage mistake never reaches the host.
        const grant = grantRequestOf(opts, new Date());
        const { client, json } = await connect(command);
        const reason = opts.reason === undefined ? {} : { reason: opts.reason };
        const result = await client.call('decideApproval', {
          params: { id },
          body:
            decision === 'approve'
              ? { decision, ...reason, ...(grant === undefined ? {} : { grant }) }
              : { decision, ...reason },
        });
        print(json, result, (r) =>
          [
            `${r.approval.id} ${r.approval.state}; run ${r.run.id} is ${r.run.state}`,
            ...(r.grant === undefined ? [] : [renderGrant(r.grant)]),
          ].join('\n'),
        );
      });
  }

  const tokens = program.command('tokens').description('manage API tokens (admin)');
  tokens
    .command('create')
    .description('create a token; its secret is printed once')
    .requiredOption('--label <text>', 'what the token is for')
    .option(
      '--connector <id>',
      'make a connector token for this connector id (default: admin token)',
    )
    .option(
      '--scope <scope...>',
      'connector scopes: runs:create runs:read runs:cancel events:post mcp',
    )
    .option('--expires-in <seconds>', 'lifetime in seconds', Number)
    .action(async (opts: TokenOptions, command: Command) => {
      const { client, json } = await connect(command);
      const expiry = opts.expiresIn === undefined ? {} : { expires_in_s: opts.expiresIn };
      const created = await client.call('createToken', {
        body:
          opts.connector === undefined
            ? { kind: 'admin', label: opts.label, ...expiry }
            : {
                kind: 'connector',
                label: opts.label,
                connector_id: opts.connector,
                scopes: opts.scope ?? [],
                ...expiry,
              },
      });
      print(
        json,
        created,
        (c) =>
          `${c.info.id} (${c.info.kind})\n${c.token}\nStore this token now: it is not shown again.`,
      );
    });
  tokens
    .command('list')
    .description('list tokens (never their secrets); agent-session tokens only with --all')
    .option('--all', "also list the agent-session tokens minted for runs' segments")
    .action(async (opts: { all?: boolean }, command: Command) => {
      const { client, json } = await connect(command);
      const list = await client.call('listTokens', {
        query: { include_agent_sessions: opts.all === true ? 'true' : 'false' },
      });
      print(json, list, (l) =>
        table([
          ['ID', 'KIND', 'LABEL', 'SCOPES', 'EXPIRES', 'REVOKED'],
          ...l.tokens.map((t) => [
            t.id,
            t.kind,
            t.label,
            t.scopes.join(','),
            t.expires_at ?? '',
            t.revoked_at ?? '',
          ]),
        ]),
      );
    });
  tokens
    .command('revoke')
    .description('revoke a token')
    .argument('<id>', 'token id')
    .action(async (id: string, _opts: unknown, command: Command) => {
      const { client, json } = await connect(command);
      const info = await client.call('revokeToken', { params: { id } });
      print(json, info, (t) => `${t.id} revoked at ${t.revoked_at ?? '?'}`);
    });

  const chain = program.command('chain').description('the causal chain');
  chain
    .command('verify')
    .description(
      'verify the chain end to end, signed heads included; with --file, an export offline. Exits 1 when it is broken',
    )
    .option('--file <export>', 'check a `ccos chain export` file instead of the running host')
    .option('--public-key <file>', "with --file: the host's chain-signing public key to pin")
    .action(chainVerify);
  registerChainExport(chain);
}

type TokenOptions = { label: string; connector?: string; scope?: TokenScope[]; expiresIn?: number };
