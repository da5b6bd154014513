import type { Readable, Writable } from 'node:stream';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { z } from 'zod';
import {
  AGENT_METHODS,
  CALL_ID_META_KEY,
  checkpointParamsSchema,
  completeParamsSchema,
  llmCompleteParamsSchema,
  memoryGetParamsSchema,
  memoryListParamsSchema,
  memoryPutParamsSchema,
  toolCallIdSchema,
} from '../../../contracts/agent-channel.ts';
import { followUpRequestSchema } from '../../../contracts/schedules.ts';
import { AppError, invalidInput } from '../../errors.ts';
import type { Disposable } from '../../disposable.ts';
import { HOST_VERSION } from '../../version.ts';
import type { AgentChannelHandlers } from './agent-channel-handlers.ts';
import { toChannelError } from './channel-error.ts';
import { NdjsonTransport } from './ndjson-transport.ts';
import { TokenGateTransport } from './token-gate-transport.ts';

export type ServeAgentChannelOptions = {
  /** The worker's stdout: what it sends to the host. */
  input: Readable;
  /** The worker's stdin: where the host's replies go. */
  output: Writable;
  handlers: AgentChannelHandlers;
  /** The run's agent-session token; every request must carry it in `params._meta.ccos_token`. */
  token: string;
  /**
   * The worker broke the protocol (not JSON, not JSON-RPC, a message over the size cap, an
   * unsolicited response). The channel has stopped reading; the supervisor should kill the worker.
   */
  onProtocolError: (reason: string) => void;
  /** A message came without the right token and was refused (for the audit trail). */
  onAuthDenied?: (method: string) => void;
  /** A handler threw something that is not an AppError (a host bug), or a reply could not be sent. */
  onUnexpectedError?: (error: unknown) => void;
  /**
   * Hears the worker's activity: every message it sends, and each of its requests as the
   * host starts and finishes answering it (the supervisor's hang detection).
   */
  activity?: ChannelActivity;
  /** Cap on one message from the worker, in bytes; defaults to 1 MiB. */
  maxMessageBytes?: number;
};

export type ChannelActivity = {
  received: () => void;
  requestStarted: () => void;
  requestFinished: () => void;
};

/** `tools/list` may carry a pagination cursor; the host always answers with one page. */
const listToolsParamsSchema = z.strictObject({ cursor: z.string().optional() });
const callToolParamsSchema = z.strictObject({
  name: z.string().min(1).max(64),
  arguments: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Serves one worker's agent channel (ARCHITECTURE.md §8): an MCP server over the child's
 * stdio answering `tools/list`, `tools/call` and the `ccos/*` methods from `handlers`. The
 * worker is untrusted: every message must carry the run's token, every params object is
 * parsed with the contract schemas before a handler sees it, and a protocol violation is
 * reported through `onProtocolError` instead of throwing. Disposing closes the server (the
 * caller owns and kills the process).
 */
export async function serveAgentChannel(options: ServeAgentChannelOptions): Promise<Disposable> {
  const { handlers } = options;
  const onUnexpected = options.onUnexpectedError ?? (() => undefined);
  let violated = false;
  const reportViolation = (reason: string): void => {
    // One report per channel: the first violation is the reason the worker is killed.
    if (violated) return;
    violated = true;
    options.onProtocolError(reason);
  };

  // eslint-disable-next-line @typescript-eslint/no-deprecated -- McpServer cannot register custom (ccos/*) methods; the SDK keeps Server for exactly this
  const server = new Server(
    { name: 'ccos-gateway', version: HOST_VERSION },
    { capabilities: { tools: { listChanged: false } } },
  );
  server.onerror = onUnexpected;

  const handle = <P>(
    method: string,
    paramsSchema: z.ZodType<P>,
    run: (params: P, raw: unknown) => Promise<Record<string, unknown>>,
  ): void => {
    server.setRequestHandler(
      z.object({ method: z.literal(method), params: z.unknown() }),
      async (request) => {
        options.activity?.requestStarted();
        try {
          return await run(parseParams(method, paramsSchema, request.params), request.params);
        } catch (e) {
          throw toChannelError(e, onUnexpected);
        } finally {
          options.activity?.requestFinished();
        }
      },
    );
  };

  handle('tools/list', listToolsParamsSchema, async () => {
    const tools = await handlers.listTools();
    return {
      tools: tools.map((t) => ({
        name: t.name,
        description: t.description,
        // MCP requires an object schema at the root; skill inputs are objects by contract.
        inputSchema: { ...t.parameters, type: 'object' },
      })),
    };
  });
  handle('tools/call', callToolParamsSchema, async ({ name, arguments: args }, raw) => {
    const callId = callIdOf(raw);
    const outcome = await handlers.callTool(
      name,
      args ?? {},
      callId === undefined ? undefined : { callId },
    );
    return {
      content: [{ type: 'text', text: JSON.stringify(outcome) }],
      structuredContent: outcome,
      isError: outcome.status === 'error' || outcome.status === 'refused',
    };
  });
  handle(AGENT_METHODS.sessionInfo, z.strictObject({}), async () => handlers.sessionInfo());
  handle(AGENT_METHODS.llmComplete, llmCompleteParamsSchema, async ({ request }) =>
    handlers.llmComplete(request),
  );
  handle(AGENT_METHODS.checkpoint, checkpointParamsSchema, async ({ state }) =>
    handlers.checkpoint(state),
  );
  handle(AGENT_METHODS.complete, completeParamsSchema, async ({ summary }) =>
    handlers.complete(summary),
  );
  handle(AGENT_METHODS.memoryGet, memoryGetParamsSchema, async ({ key, namespace, call_id }) =>
    handlers.memoryGet(key, namespace, call_id),
  );
  handle(AGENT_METHODS.memoryPut, memoryPutParamsSchema, async (params) =>
    handlers.memoryPut(params),
  );
  handle(AGENT_METHODS.memoryList, memoryListParamsSchema, async ({ namespace, prefix, call_id }) =>
    handlers.memoryList(namespace, prefix, call_id),
  );
  handle(AGENT_METHODS.scheduleResume, followUpRequestSchema, async (request) => {
    if (handlers.resumeLater === undefined) {
      throw new AppError(
        'INVALID_INPUT',
        'this host has no scheduler: a run cannot ask to resume later',
      );
    }
    return handlers.resumeLater(request);
  });

  const framing = new NdjsonTransport({
    input: options.input,
    output: options.output,
    ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
    onViolation: (v) => {
      reportViolation(`${v.kind}: ${v.detail}`);
    },
  });
  const gate = new TokenGateTransport({
    inner: framing,
    token: options.token,
    onDenied: options.onAuthDenied ?? (() => undefined),
    onViolation: reportViolation,
  });
  await server.connect(gate);
  const activity = options.activity;
  if (activity !== undefined) {
    // Wrapped after connect, where the SDK installs its handler: every message counts,
    // the protocol's own `initialize` included.
    const deliver = gate.onmessage;
    gate.onmessage = (message) => {
      activity.received();
      deliver?.(message);
    };
  }
  return { dispose: () => server.close() };
}

/**
 * Parses a request's params with the contract schema. `_meta` (token, progress token) is
 * the protocol's, not the method's, so it is set aside before the strict parse.
 */
function parseParams<P>(method: string, schema: z.ZodType<P>, params: unknown): P {
  if (params !== undefined && (typeof params !== 'object' || params === null)) {
    throw new AppError('INVALID_INPUT', `invalid ${method} params: not an object`);
  }
  const rest: Record<string, unknown> = { ...(params ?? {}) };
  delete rest._meta;
  const parsed = schema.safeParse(rest);
  if (!parsed.success) throw invalidInput(`${method} params`, parsed.error.issues);
  return parsed.data;
}

/**
 * The call id in a `tools/call`'s `params._meta`, if the worker sent one. It becomes part
 * of a step id and an audit entry, so anything but a short plain token is refused.
 */
function callIdOf(params: unknown): string | undefined {
  const meta = (params as { _meta?: unknown } | undefined)?._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const given = (meta as Record<string, unknown>)[CALL_ID_META_KEY];
  if (given === undefined) return undefined;
  const parsed = toolCallIdSchema.safeParse(given);
  if (!parsed.success)
    throw invalidInput(`tools/call _meta.${CALL_ID_META_KEY}`, parsed.error.issues);
  return parsed.data;
}
