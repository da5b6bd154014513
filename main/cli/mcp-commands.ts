import { Option, type Command } from 'commander';
import { connect } from './cli-context.ts';

export const MCP_CLIENTS = ['claude-desktop', 'generic'] as const;
export type McpClientKind = (typeof MCP_CLIENTS)[number];

/**
 * The configuration an MCP client needs to reach this gateway's `/mcp` with a token.
 * Claude Desktop starts local (stdio) servers only, so it reaches HTTP through the
 * `mcp-remote` bridge; other clients take the Streamable HTTP URL and header directly.
 */
export function mcpClientConfig(kind: McpClientKind, gatewayUrl: string, token: string): object {
  const url = `${gatewayUrl.replace(/\/+$/, '')}/mcp`;
  const authorization = `Bearer ${token}`;
  if (kind === 'claude-desktop') {
    return {
      mcpServers: {
        ccos: {
          command: 'npx',
          args: ['-y', 'mcp-remote', url, '--header', 'Authorization:${CCOS_AUTH}'],
          // In env, not args: the token stays out of the process list.
          env: { CCOS_AUTH: authorization },
        },
      },
    };
  }
  return { mcpServers: { ccos: { type: 'http', url, headers: { Authorization: authorization } } } };
}

/** `ccos mcp config`: mints a connector token with the `mcp` scope and prints a client config. */
export function registerMcpCommands(program: Command): void {
  const mcp = program.command('mcp').description('use CCOS skills from an MCP client');
  mcp
    .command('config')
    .description(
      'create a connector token with the mcp scope and print the client configuration (the token is in it: store it now)',
    )
    .addOption(
      new Option('--client <kind>', 'which client the configuration is for')
        .choices(MCP_CLIENTS)
        .default('generic'),
    )
    .option('--connector <id>', 'connector id of the token', 'mcp-client')
    .action(async (opts: { client: McpClientKind; connector: string }, command: Command) => {
      const { client } = await connect(command);
      const created = await client.call('createToken', {
        body: {
          kind: 'connector',
          label: `mcp ${opts.client}`,
          connector_id: opts.connector,
          scopes: ['mcp'],
        },
      });
      console.log(
        JSON.stringify(mcpClientConfig(opts.client, client.baseUrl, created.token), null, 2),
      );
    });
}
