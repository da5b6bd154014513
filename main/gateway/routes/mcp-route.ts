import { randomUUID } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { SkillOperation, ToolDefinition } from '../../../contracts/skills.ts';
import type { Principal } from '../../auth/token-service.ts';
import { isAppError } from '../../errors.ts';
import type { AccessControl } from '../shared/access-control.ts';
import type { GatewayDeps, GatewayEnv } from '../shared/gateway-env.ts';
import { mcpTools } from './mcp-offered-tools.ts';
import { McpSession } from './mcp-session.ts';
import { callTool } from './mcp-tool-call.ts';

export const MCP_PATH = '/mcp';

/** Tools per `tools/list` page: a client with hundreds of skills pages with the cursor. */
export const MCP_TOOLS_PAGE = 50;

/** Open MCP sessions per gateway: each holds a transport and a registry subscription. */
const MAX_SESSIONS = 64;

/**
 * `/mcp`: the Model Context Protocol over Streamable HTTP (issue 25). A protocol endpoint,
 * not an OpenAPI operation: JSON-RPC in, JSON or SSE out. Every request is authenticated
 * like `/v1/*` (bearer token, Origin/Host already guarded app-wide) and needs the `mcp`
 * scope, and revoking the token closes its sessions. A session id belongs to the principal
 * that opened it; another token presenting it is told the same 404 as for an unknown id, so
 * ids cannot be probed. Each session drives one external run (see `McpSession`).
 */
export function registerMcpRoute(
  app: OpenAPIHono<GatewayEnv>,
  deps: GatewayDeps,
  access: AccessControl,
): { close: () => Promise<void> } {
  const sessions = new Map<string, McpSession>();
  const mcp = deps.mcp;
  // Set at host stop: a session opened after the others were ended would outlive the host.
  let stopping = false;

  // A revoked token's sessions end now, not at their next request.
  const revocations = deps.chain.subscribe((entries) => {
    for (const entry of entries) {
      if (entry.event_type !== 'token.revoked') continue;
      for (const session of sessions.values()) {
        if (session.principal.token_id === entry.data.token_id)
          void session.end('its token was revoked', { closeTransport: true });
      }
    }
  });

  const open = async (principal: Principal): Promise<McpSession> => {
    // The low-level server: the tool list is the registry's, paged here, not tools
    // registered one by one (the SDK's advice: `Server` for such advanced uses).
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    const server = new Server(
      { name: 'ccos-gateway', version: deps.version },
      { capabilities: { tools: { listChanged: true } } },
    );
    let id: string | undefined;
    const transport: WebStandardStreamableHTTPServerTransport =
      new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => `mcp_${randomUUID()}`,
        onsessioninitialized: (sessionId) => {
          id = sessionId;
          sessions.set(sessionId, session);
          // Every registry change (load, replace, unload, enable, disable) changes the list.
          session.subscription = deps.skills.subscribe(() => {
            void server.sendToolListChanged().catch(() => undefined);
          });
          session.touch();
        },
        onsessionclosed: (): Promise<void> =>
          session.end('the client closed it', {
            closeTransport: false,
            actor: principal.actor,
          }),
      });
    const session: McpSession = new McpSession(
      {
        externalRuns: requireMcp(mcp).externalRuns,
        connectors: deps.connectors,
        policies: requireMcp(mcp).policies,
        logger: deps.logger,
      },
      {
        principal,
        server,
        transport,
        onEnd: () => {
          if (id !== undefined) sessions.delete(id);
        },
      },
    );
    server.setRequestHandler(ListToolsRequestSchema, (request) =>
      listTools(mcpTools(deps.skills.tools()), request.params?.cursor, mcp?.operationOf),
    );
    // The run starts as soon as the client has said who it is.
    server.oninitialized = () => {
      void session.run().catch((e: unknown) => {
        deps.logger.warn({ err: e }, 'the run of an MCP session could not be opened');
      });
    };
    server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
      session.busy(async () => {
        if (mcp === undefined)
          throw new McpError(ErrorCode.InternalError, 'tools/call is not served');
        let run;
        try {
          run = await session.run();
        } catch (e) {
          if (!isAppError(e)) throw e;
          return { isError: true, content: [{ type: 'text', text: `${e.code}: ${e.message}` }] };
        }
        const token = extra._meta?.progressToken;
        let progress = 0;
        return callTool(
          { ...mcp, approvals: deps.approvals, chain: deps.chain },
          {
            run,
            actor: principal.actor,
            correlation_id: null,
            server,
            tool: request.params.name,
            params: request.params.arguments ?? {},
            window: session.window,
            signal: extra.signal,
            ending: session.ending,
            progress: async (message) => {
              if (token === undefined) return;
              progress += 1;
              await extra.sendNotification({
                method: 'notifications/progress',
                params: { progressToken: token, progress, message },
              });
            },
          },
        );
      }),
    );
    await server.connect(transport);
    return session;
  };

  app.all(MCP_PATH, access.authenticate, async (c) => {
    const principal = await access.requireScope(c, 'mcp');
    const id = c.req.header('mcp-session-id');
    if (id === undefined) {
      if (stopping) return rpcError(503, 'the host is stopping');
      if (sessions.size >= MAX_SESSIONS) return rpcError(503, 'too many MCP sessions');
      const session = await open(principal);
      return session.transport.handleRequest(c.req.raw);
    }
    const session = sessions.get(id);
    if (session?.principal.actor !== principal.actor) {
      // Audited (an attempt on another connector's session is worth a look), never the id:
      // the caller is answered as for an id that does not exist.
      await access.auditDenied(c, session === undefined ? 'unknown_session' : 'not_owner', {
        mcp_session: session === undefined ? 'unknown' : 'foreign',
      });
      return rpcError(404, 'session not found');
    }
    session.touch();
    return session.transport.handleRequest(c.req.raw);
  });

  return {
    // At host stop (`createGatewayApp`'s dispose, before the listener closes): every session
    // ends now, its run `done` with `mcp_session_closed: the host stopped`. Start-up recovery
    // remains the backstop for a host that died without stopping.
    close: async () => {
      stopping = true;
      await revocations.dispose();
      for (const session of [...sessions.values()])
        await session.end('the host stopped', { closeTransport: true });
      sessions.clear();
    },
  };
}

function requireMcp(mcp: GatewayDeps['mcp']): NonNullable<GatewayDeps['mcp']> {
  if (mcp === undefined) throw new McpError(ErrorCode.InternalError, 'MCP is not served');
  return mcp;
}

/** One page of the agent's tools as MCP tools; the cursor is the next index, opaque to clients. */
export function listTools(
  all: readonly ToolDefinition[],
  cursor: string | undefined,
  operationOf?: (tool: string) => SkillOperation | undefined,
): { tools: Tool[]; nextCursor?: string } {
  const start = cursor === undefined ? 0 : Number.parseInt(cursor, 10);
  if (
    !Number.isSafeInteger(start) ||
    start < 0 ||
    start > all.length ||
    `${start}` !== (cursor ?? '0')
  )
    throw new McpError(ErrorCode.InvalidParams, 'invalid cursor');
  const page = all
    .slice(start, start + MCP_TOOLS_PAGE)
    .map((tool) => toMcpTool(tool, operationOf?.(tool.name)?.output_schema));
  const next = start + MCP_TOOLS_PAGE;
  return next < all.length ? { tools: page, nextCursor: `${next}` } : { tools: page };
}

function toMcpTool(tool: ToolDefinition, output: SkillOperation['output_schema']): Tool {
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: { ...tool.parameters, type: 'object' },
    // Only an object schema: MCP's structured content is an object (see `resultOf`).
    ...(output?.type === 'object' ? { outputSchema: { ...output, type: 'object' as const } } : {}),
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
