import {
  MEMORY_GET_TOOL,
  MEMORY_LIST_TOOL,
  MEMORY_PUT_TOOL,
  memoryGetToolArgsSchema,
  memoryListToolArgsSchema,
  memoryPutToolArgsSchema,
} from '../../../contracts/agent-memory-tools.ts';
import { toolCallIdSchema, type ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { LlmToolCall } from '../../../contracts/llm.ts';
import type { AgentClient } from './agent-client.ts';

const NAMES: ReadonlySet<string> = new Set([
  MEMORY_GET_TOOL.name,
  MEMORY_PUT_TOOL.name,
  MEMORY_LIST_TOOL.name,
]);

export function isMemoryTool(name: string): boolean {
  return NAMES.has(name);
}

/** The longest TTL the host takes is under a year: seconds to the channel's milliseconds. */
const MS_PER_S = 1000;
/** Shortest lifetime the host accepts (contracts/agent-channel.ts). */
const MIN_TTL_MS = 1000;

/**
 * Runs one of the worker's memory tools as its `ccos/memory.*` call. Arguments the model got
 * wrong are an error outcome it can correct; whatever the host refuses is thrown for the
 * loop to turn into an outcome (or to end the segment on a stop code).
 */
export async function callMemoryTool(
  client: AgentClient,
  call: LlmToolCall,
): Promise<ToolCallOutcome> {
  const invalid = (message: string): ToolCallOutcome => ({
    status: 'error',
    code: 'INVALID_INPUT',
    message,
  });
  // The host records the call as this id's step (an id it would refuse is left out: the
  // host then counts the result as unknown and untrusted).
  const parsedId = toolCallIdSchema.safeParse(call.id);
  const callId = parsedId.success ? parsedId.data : undefined;
  switch (call.name) {
    case MEMORY_GET_TOOL.name: {
      const args = memoryGetToolArgsSchema.safeParse(call.arguments);
      if (!args.success) return invalid(args.error.message);
      const reply = await client.memoryRead(args.data.key, args.data.namespace, callId);
      return reply.value === null
        ? { status: 'ok', output: { found: false } }
        : {
            status: 'ok',
            output: { found: true, value: reply.value, label: reply.label, taint: reply.taint },
          };
    }
    case MEMORY_PUT_TOOL.name: {
      const args = memoryPutToolArgsSchema.safeParse(call.arguments);
      if (!args.success) return invalid(args.error.message);
      const { key, value, namespace, audience, ttl_seconds } = args.data;
      const reply = await client.memoryPut(key, value, {
        ...(namespace === undefined ? {} : { namespace }),
        ...(audience === undefined ? {} : { audience }),
        ...(ttl_seconds === undefined
          ? {}
          : { ttl_ms: Math.max(MIN_TTL_MS, ttl_seconds * MS_PER_S) }),
        ...(callId === undefined ? {} : { call_id: callId }),
      });
      // Held by the taint gate: the loop keeps the call unanswered and re-issues it on resume.
      if (reply.paused !== undefined) return { status: 'paused', ...reply.paused };
      return { status: 'ok', output: { stored: true } };
    }
    case MEMORY_LIST_TOOL.name: {
      const args = memoryListToolArgsSchema.safeParse(call.arguments);
      if (!args.success) return invalid(args.error.message);
      const reply = await client.memoryList(args.data.namespace, args.data.prefix, callId);
      return { status: 'ok', output: reply };
    }
    default:
      return invalid(`${call.name} is not a memory tool`);
  }
}
