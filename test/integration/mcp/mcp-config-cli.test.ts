import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import { runCli } from '../gateway/helpers/run-cli.ts';

type GenericConfig = {
  mcpServers: { ccos: { type: string; url: string; headers: { Authorization: string } } };
};
type DesktopConfig = {
  mcpServers: { ccos: { command: string; args: string[]; env: { CCOS_AUTH: string } } };
};

describe('ccos mcp config (issue 25)', () => {
  let gw: GatewayTestHost;
  beforeAll(async () => {
    gw = await startGatewayHost();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('prints a generic config whose URL and token an SDK client lists tools with', async () => {
    const r = await runCli(['--data-dir', gw.dataDir, 'mcp', 'config', '--client', 'generic']);
    expect(r.code, r.stderr).toBe(0);
    const server = (JSON.parse(r.stdout) as GenericConfig).mcpServers.ccos;
    expect(server.type).toBe('http');
    const client = new Client({ name: 'cfg', version: '0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(server.url), {
        requestInit: { headers: { authorization: server.headers.Authorization } },
      }),
    );
    try {
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('prints a Claude Desktop config that keeps the token out of the arguments', async () => {
    const r = await runCli([
      '--data-dir',
      gw.dataDir,
      'mcp',
      'config',
      '--client',
      'claude-desktop',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const server = (JSON.parse(r.stdout) as DesktopConfig).mcpServers.ccos;
    expect(server.args).toContain(`${gw.url}/mcp`);
    expect(server.env.CCOS_AUTH).toMatch(/^Bearer \S+$/);
    expect(server.args.join(' ')).not.toContain(server.env.CCOS_AUTH.slice('Bearer '.length));
  });

  it('refuses an unknown client kind with a usage error', async () => {
    const r = await runCli(['--data-dir', gw.dataDir, 'mcp', 'config', '--client', 'vscode']);
    expect(r.code).toBe(2);
  });
});
