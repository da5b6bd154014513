import type { Readable, Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { z } from 'zod';
import {
  AGENT_METHODS,
  CALL_ID_META_KEY,
  agentSessionInfoSchema,
  checkpointReplySchema,
  completeReplySchema,
  llmCompleteReplySchema,
  memoryGetReplySchema,
  memoryListReplySchema,
  memoryPutReplySchema,
  type MemoryGetReply,
  type MemoryListReply,
  type MemoryPutParams,
  type MemoryPutReply,
  toolCallOutcomeSchema,
  type AgentSessionInfo,
  type CompleteReply,
  type LlmCompleteReply,
  type ToolCallOutcome,
} from '../../../contracts/agent-channel.ts';
import {
  followUpReplySchema,
  type FollowUpReply,
  type FollowUpRequest,
} from '../../../contracts/schedules.ts';
import { llmToolSchema, type LlmCompleteRequest, type LlmTool } from '../../../contracts/llm.ts';
import { NdjsonTransport, type ProtocolViolation } from '../channel/ndjson-transport.ts';
import { TokenStampingTransport } from '../channel/token-stamping-transport.ts';

/** Generous: the host bounds every call by the segment's time and kills the worker past it. */
const REQUEST_TIMEOUT_MS = 10 * 60 * 1000;
/** The host's replies carry whole LLM answers and tool lists; larger than the host's own cap. */
const MAX_REPLY_BYTES = 8 * 1024 * 1024;

/** The host's answer to one request was an error carrying this stable code (`data.code`). */
export function channelErrorCode(e: unknown): string | undefined {
  if (!(e instanceof McpError)) return undefined;
  const data: unknown = e.data;
  if (typeof data !== 'object' || data === null) return undefined;
  const code = (data as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The worker's typed view of the agent channel. Replies are parsed with the contract schemas. */
export type AgentClient = {
  sessionInfo(): Promise<AgentSessionInfo>;
  listTools(): Promise<LlmTool[]>;
  /** `callId`: the LLM's id for the call, so the host runs it at most once (see the host's channel). */
  callTool(name: string, args: Record<string, unknown>, callId?: string): Promise<ToolCallOutcome>;
  /** The answer, and the person's notes the host put in the request before it (issue 24). */
  llmComplete(request: LlmCompleteRequest): Promise<LlmCompleteReply>;
  checkpoint(state: unknown): Promise<number>;
  complete(summary: string | undefined): Promise<CompleteReply>;
  /** Saves `request.state`, pauses the run and has it resumed later (`ccos/schedule.resume`). */
  resumeLater(request: FollowUpRequest): Promise<FollowUpReply>;
  /**
   * Governed memory (metered and filtered by the host like everything else): by default the
   * run's own namespace, the agent's scratch space, never a completion fact. `memoryGet` is
   * the value alone; `memoryRead` adds the item's label and taint.
   */
  memoryGet(key: string): Promise<unknown>;
  /** `callId`: the LLM's id for the tool call that asked (see `ccos/memory.get`). */
  memoryRead(key: string, namespace?: string, callId?: string): Promise<MemoryGetReply>;
  memoryPut(
    key: string,
    value: unknown,
    options?: Omit<MemoryPutParams, 'key' | 'value'>,
  ): Promise<MemoryPutReply>;
  memoryList(namespace?: string, prefix?: string, callId?: string): Promise<MemoryListReply>;
  close(): Promise<void>;
};

export type ConnectAgentClientOptions = {
  /** Where the host's messages arrive: the worker's stdin. */
  input: Readable;
  /** Where the worker's messages go: its stdout, which must carry nothing else. */
  output: Writable;
  token: string;
  onViolation: (violation: ProtocolViolation) => void;
  /**
   * What checks tool outputs against their schemas; default a new one per client. A worker
   * started from its snapshot passes the one built (and warmed) in the snapshot.
   */
  jsonSchemaValidator?: jsonSchemaValidator;
};

/** Connects to the host over stdio (MCP `initialize` included) with the token on every message. */
export async function connectAgentClient(options: ConnectAgentClientOptions): Promise<AgentClient> {
  const client = new Client(
    { name: 'ccos-agent-worker', version: '1' },
    {
      capabilities: {},
      ...(options.jsonSchemaValidator === undefined
        ? {}
        : { jsonSchemaValidator: options.jsonSchemaValidator }),
    },
  );
  const framing = new NdjsonTransport({
    input: options.input,
    output: options.output,
    maxMessageBytes: MAX_REPLY_BYTES,
    onViolation: options.onViolation,
  });
  await client.connect(new TokenStampingTransport(framing, options.token), {
    timeout: REQUEST_TIMEOUT_MS,
  });
  const call = <T>(
    method: string,
    params: Record<string, unknown>,
    schema: { parse: (v: unknown) => T },
  ): Promise<T> =>
    client
      .request({ method, params }, agentReplySchema, { timeout: REQUEST_TIMEOUT_MS })
      .then((reply) => schema.parse(stripMeta(reply)));

  return {
    sessionInfo: () => call(AGENT_METHODS.sessionInfo, {}, agentSessionInfoSchema),
    async listTools() {
      const { tools } = await client.listTools(undefined, { timeout: REQUEST_TIMEOUT_MS });
      return tools.map((t) =>
        llmToolSchema.parse({
          name: t.name,
          description: t.description ?? '',
          parameters: t.inputSchema,
        }),
      );
    },
    async callTool(name, args, callId) {
      const result = await client.callTool(
        {
          name,
          arguments: args,
          ...(callId === undefined ? {} : { _meta: { [CALL_ID_META_KEY]: callId } }),
        },
        undefined,
        { timeout: REQUEST_TIMEOUT_MS },
      );
      return toolCallOutcomeSchema.parse(result.structuredContent);
    },
    llmComplete: (request) => call(AGENT_METHODS.llmComplete, { request }, llmCompleteReplySchema),
    checkpoint: async (state) =>
      (await call(AGENT_METHODS.checkpoint, { state }, checkpointReplySchema)).checkpoint_id,
    complete: (summary) =>
      call(AGENT_METHODS.complete, summary === undefined ? {} : { summary }, completeReplySchema),
    resumeLater: (request) =>
      call(AGENT_METHODS.scheduleResume, { ...request }, followUpReplySchema),
    memoryGet: async (key) =>
      (await call(AGENT_METHODS.memoryGet, { key }, memoryGetReplySchema)).value,
    memoryRead: (key, namespace, callId) =>
      call(
        AGENT_METHODS.memoryGet,
        {
          key,
          ...(namespace === undefined ? {} : { namespace }),
          ...(callId === undefined ? {} : { call_id: callId }),
        },
        memoryGetReplySchema,
      ),
    memoryPut: (key, value, options = {}) =>
      call(AGENT_METHODS.memoryPut, { ...options, key, value }, memoryPutReplySchema),
    memoryList: (namespace, prefix, callId) =>
      call(
        AGENT_METHODS.memoryList,
        {
          ...(namespace === undefined ? {} : { namespace }),
          ...(prefix === undefined ? {} : { prefix }),
          ...(callId === undefined ? {} : { call_id: callId }),
        },
        memoryListReplySchema,
      ),
    close: () => client.close(),
  };
}

/** Any JSON-RPC result object; the contract schema then parses it exactly. */
const agentReplySchema = z.record(z.string(), z.unknown());

/** The contract reply schemas are strict; a `_meta` the protocol may add is not part of them. */
function stripMeta(reply: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...reply };
  delete rest._meta;
  return rest;
}
