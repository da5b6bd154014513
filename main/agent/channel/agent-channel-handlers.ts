import type {
  AgentSessionInfo,
  CompleteReply,
  LlmCompleteReply,
  MemoryGetReply,
  MemoryListReply,
  MemoryPutParams,
  MemoryPutReply,
  ToolCallOutcome,
} from '../../../contracts/agent-channel.ts';
import type { LlmCompleteRequest } from '../../../contracts/llm.ts';
import type { FollowUpReply, FollowUpRequest } from '../../../contracts/schedules.ts';
import type { ToolDefinition } from '../../../contracts/skills.ts';

/**
 * The host side of one worker's channel: what each method does, implemented by the run
 * supervisor for one run segment (metering, budgets, audit). Every method may throw an
 * AppError; the channel sends it to the worker as a JSON-RPC error carrying the code.
 */
export type AgentChannelHandlers = {
  sessionInfo: () => Promise<AgentSessionInfo>;
  listTools: () => Promise<ToolDefinition[]>;
  /**
   * `options.callId` is the LLM's id for the call when the worker sent one: the host runs
   * a call with a given id at most once per run. Without it the call is not deduplicated.
   */
  callTool: (
    name: string,
    args: Record<string, unknown>,
    options?: { callId?: string },
  ) => Promise<ToolCallOutcome>;
  /** The answer, with the person's notes the host added to the request (issue 24). */
  llmComplete: (request: LlmCompleteRequest) => Promise<LlmCompleteReply>;
  checkpoint: (state: unknown) => Promise<{ checkpoint_id: number }>;
  complete: (summary: string | undefined) => Promise<CompleteReply>;
  /**
   * Governed memory (issue 22): the value with its label and taint, or null. `callId` is the
   * LLM's id for the tool call that asked (the host records it as that call's step).
   */
  memoryGet: (
    key: string,
    namespace: string | undefined,
    callId?: string,
  ) => Promise<MemoryGetReply>;
  memoryPut: (params: MemoryPutParams) => Promise<MemoryPutReply>;
  memoryList: (
    namespace: string | undefined,
    prefix: string | undefined,
    callId?: string,
  ) => Promise<MemoryListReply>;
  /**
   * `ccos/schedule.resume`: checkpoint, pause the run and resume it later. Absent where
   * the host has no scheduler; the channel then refuses the method.
   */
  resumeLater?: (request: FollowUpRequest) => Promise<FollowUpReply>;
};
