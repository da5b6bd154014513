import path from 'node:path';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';

/** An SDK client connected to the host's `/mcp` with this bearer token. */
async function connect(gw: GatewayTestHost, token: string): Promise<Client> {
  const client = new Client({ name: 'ccos-test', version: '0.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'raw', version: '0' },
  },
};
const ACCEPT = { accept: 'application/json, text/event-stream' };

/** The tool names an MCP client is listed: all but the transforms, verifier and declassify. */
function offeredOverMcp(tools: readonly { name: string }[]): string[] {
  return tools.map((t) => t.name).filter((n) => !/^ccos__(transform_|declassify$)/.test(n));
}

describe('/mcp (issue 25)', () => {
  let gw: GatewayTestHost;
  beforeAll(async () => {
    gw = await startGatewayHost();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('lists the agent tools, with annotations, to an SDK client holding the mcp scope', async () => {
    const { token } = await gw.connector('claude', ['mcp']);
    const client = await connect(gw, token);
    try {
      const listed = await client.listTools();
      const expected = offeredOverMcp(gw.started.skills.tools());
      expect(expected.length).toBeGreaterThan(0);
      expect(listed.tools.map((t) => t.name)).toEqual(expected.slice(0, 50));
      for (const tool of listed.tools) {
        expect(tool.inputSchema.type).toBe('object');
        expect(typeof tool.annotations?.readOnlyHint).toBe('boolean');
      }
    } finally {
      await client.close();
    }
  });

  it('tells an open session tools/list_changed when a skill is installed, and lists it then', async () => {
    const { token } = await gw.connector('listener', ['mcp']);
    const client = await connect(gw, token);
    try {
      const changed = new Promise<void>((resolve) => {
        client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
          resolve();
        });
      });
      // Opens the standalone SSE stream the server sends notifications on.
      await client.listTools();
      const installed = await gw.request('POST', '/v1/skills', {
        json: { path: path.resolve('plugins/echo-notes') },
      });
      expect(installed.status).toBe(201);
      await changed;
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor });
        names.push(...page.tools.map((t) => t.name));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(names).toEqual(offeredOverMcp(gw.started.skills.tools()));
      expect(names.some((n) => n.startsWith('echo-notes__'))).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('refuses a request without a token (401) and a token without the mcp scope (403, audited)', async () => {
    const none = await gw.request('POST', '/mcp', {
      token: null,
      json: INITIALIZE,
      headers: ACCEPT,
    });
    expect(none.status).toBe(401);
    const { token } = await gw.connector('reader', ['runs:read']);
    const noScope = await gw.request('POST', '/mcp', { token, json: INITIALIZE, headers: ACCEPT });
    expect(noScope.status).toBe(403);
    const denied = await gw.chain('auth.denied');
    expect(denied.some((e) => (e.data as { scope?: string }).scope === 'mcp')).toBe(true);
  });

  it("refuses another connector's session id as if it did not exist, and audits it", async () => {
    const owner = await gw.connector('owner', ['mcp']);
    const other = await gw.connector('other', ['mcp']);
    const opened = await gw.request('POST', '/mcp', {
      token: owner.token,
      json: INITIALIZE,
      headers: ACCEPT,
    });
    expect(opened.status).toBe(200);
    const sessionId = opened.headers.get('mcp-session-id');
    expect(sessionId).toMatch(/^mcp_/);
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
    const stolen = await gw.request('POST', '/mcp', {
      token: other.token,
      json: list,
      headers: { ...ACCEPT, 'mcp-session-id': sessionId ?? '' },
    });
    const unknown = await gw.request('POST', '/mcp', {
      token: other.token,
      json: list,
      headers: { ...ACCEPT, 'mcp-session-id': 'mcp_nonexistent' },
    });
    expect(stolen.status).toBe(404);
    expect(stolen.text).toBe(unknown.text);
    const denied = (await gw.chain('auth.denied')).filter((e) => e.actor === 'connector:other');
    expect(denied.map((e) => e.data.mcp_session)).toEqual(['foreign', 'unknown']);
    expect(JSON.stringify(denied)).not.toContain(sessionId ?? 'no id');
  });

  it('stops serving a session once its token is revoked', async () => {
    const { token, id } = await gw.connector('revoked', ['mcp']);
    const client = await connect(gw, token);
    try {
      await client.listTools();
      const revoke = await gw.request('DELETE', `/v1/tokens/${id}`);
      expect(revoke.status).toBe(200);
      await expect(client.listTools()).rejects.toThrow(/401|revoked/);
    } finally {
      await client.close().catch(() => undefined);
    }
  });

  it('refuses a request from a web page of another origin', async () => {
    const { token } = await gw.connector('web', ['mcp']);
    const res = await gw.request('POST', '/mcp', {
      token,
      json: INITIALIZE,
      headers: { ...ACCEPT, origin: 'http://evil.example' },
    });
    expect(res.status).toBe(403);
  });
});
