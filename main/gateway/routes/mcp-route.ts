import { randomUUID } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { ToolDefinition } from '../../../contracts/skills.ts';
import type { Disposable } from '../../disposable.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';

export const MCP_PATH = '/mcp';

/** Tools per `tools/list` page: a client with hundreds of skills pages with the cursor. */
export const MCP_TOOLS_PAGE = 50;

/** Open MCP sessions per gateway: each holds a transport and a registry subscription. */
const MAX_SESSIONS = 64;

type McpSession = {
  transport: WebStandardStreamableHTTPServerTransport;
  /** The principal that opened it; no other token may use its id (issue 25). */
  actor: string;
  subscription: Disposable;
};

/**
 * `/mcp`: the Model Context Protocol over Streamable HTTP (issue 25). A protocol endpoint,
 * not an OpenAPI operation: JSON-RPC in, JSON or SSE out. Every request is authenticated
 * like `/v1/*` (bearer token, Origin/Host already guarded app-wide) and needs the `mcp`
 * scope, so revoking the token ends the session's use at its next request. A session id
 * belongs to the principal that opened it; another token presenting it is told the same
 * 404 as for an unknown id, so ids cannot be probed.
 */
export function registerMcpRoute(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): { close: () => Promise<void> } {
  const sessions = new Map<string, McpSession>();

  const open = async (actor: string): Promise<WebStandardStreamableHTTPServerTransport> => {
    // The low-level server: the tool list is the registry's, paged here, not tools
    // registered one by one (the SDK's advice: `Server` for such advanced uses).
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    const server = new Server(
      { name: 'ccos-gateway', version: deps.version },
      { capabilities: { tools: { listChanged: true } } },
    );
    server.setRequestHandler(ListToolsRequestSchema, (request) =>
      listTools(deps.skills.tools(), request.params?.cursor),
    );
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => `mcp_${randomUUID()}`,
      onsessioninitialized: (id) => {
        // Every registry change (load, replace, unload, enable, disable) changes the list.
        const subscription = deps.skills.subscribe(() => {
          void server.sendToolListChanged().catch(() => undefined);
        });
        sessions.set(id, { transport, actor, subscription });
      },
      onsessionclosed: (id) => {
        void sessions.get(id)?.subscription.dispose();
        sessions.delete(id);
      },
    });
    await server.connect(transport);
    return transport;
  };

  app.all(MCP_PATH, access.authenticate, async (c) => {
    const principal = await access.requireScope(c, 'mcp');
    const id = c.req.header('mcp-session-id');
    if (id === undefined) {
      if (sessions.size >= MAX_SESSIONS) return rpcError(503, 'too many MCP sessions');
      const transport = await open(principal.actor);
      return transport.handleRequest(c.req.raw);
    }
    const session = sessions.get(id);
    if (session?.actor !== principal.actor) return rpcError(404, 'session not found');
    return session.transport.handleRequest(c.req.raw);
  });

  return {
    close: async () => {
      for (const session of sessions.values()) {
        await session.subscription.dispose();
        await session.transport.close();
      }
      sessions.clear();
    },
  };
}

/** One page of the agent's tools as MCP tools; the cursor is the next index, opaque to clients. */
export function listTools(
  all: readonly ToolDefinition[],
  cursor: string | undefined,
): { tools: Tool[]; nextCursor?: string } {
  const start = cursor === undefined ? 0 : Number.parseInt(cursor, 10);
  if (
    !Number.isSafeInteger(start) ||
    start < 0 ||
    start > all.length ||
    `${start}` !== (cursor ?? '0')
  )
    throw new McpError(ErrorCode.InvalidParams, 'invalid cursor');
  const page = all.slice(start, start + MCP_TOOLS_PAGE).map(toMcpTool);
  const next = start + MCP_TOOLS_PAGE;
  return next < all.length ? { tools: page, nextCursor: `${next}` } : { tools: page };
}

function toMcpTool(tool: ToolDefinition): Tool {
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: { ...tool.parameters, type: 'object' },
    annotations: {
      title: `${tool.skill_id} ${tool.operation_id}`,
      // A tool that needs a person's approval is one whose effects are not read-only.
      readOnlyHint: tool.approval === 'never',
      openWorldHint: true,
    },
  };
}

function rpcError(status: number, message: string): Response {
  return new Response(
    JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }),
    { status, headers: { 'content-type': 'application/json' } },
  );
}
