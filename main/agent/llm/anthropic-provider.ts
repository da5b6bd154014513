import Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  MessageCreateParamsNonStreaming,
  MessageParam,
} from '@anthropic-ai/sdk/resources/messages';
import { z } from 'zod';
import type {
  LlmCompleteRequest,
  LlmCompleteResult,
  LlmMessage,
  LlmProviderSettings,
  LlmStopReason,
  LlmToolCall,
} from '../../../contracts/llm.ts';
import { lazyApiKey } from './api-key.ts';
import { checkResult } from './check-result.ts';
import { estimateUsage } from './estimate-usage.ts';
import {
  badResponse,
  connectionFailure,
  statusFailure,
  toLlmError,
  type LlmFailure,
} from './llm-errors.ts';
import {
  LLM_MAX_RETRIES,
  LLM_TIMEOUT_MS,
  type LlmCallOptions,
  type LlmProvider,
  type LlmProviderDeps,
} from './llm-provider.ts';

type AnthropicSettings = Extract<LlmProviderSettings, { kind: 'anthropic' }>;

/** Set explicitly so the SDK does not fall back to ANTHROPIC_BASE_URL from the host's environment. */
const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
/** The Messages API requires `max_tokens`; used when the request names none. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/** The parts of a Messages API answer we read, parsed because the SDK's types are not checked at run time. */
const messageSchema = z.object({
  model: z.string().optional(),
  stop_reason: z.string().nullish(),
  content: z.array(
    z.union([
      z.object({ type: z.literal('text'), text: z.string() }),
      z.object({
        type: z.literal('tool_use'),
        id: z.string(),
        name: z.string(),
        input: z.unknown(),
      }),
      // Thinking and server-tool blocks carry nothing the agent loop uses.
      z.object({ type: z.string() }),
    ]),
  ),
  usage: z
    .object({
      input_tokens: z.int().nonnegative(),
      output_tokens: z.int().nonnegative(),
      cache_creation_input_tokens: z.int().nonnegative().nullish(),
      cache_read_input_tokens: z.int().nonnegative().nullish(),
    })
    .nullish(),
});

/** Claude through the official `@anthropic-ai/sdk` Messages API, with tools. */
export class AnthropicProvider implements LlmProvider {
  readonly id: string;
  readonly #settings: AnthropicSettings;
  readonly #deps: LlmProviderDeps;
  readonly #apiKey: () => Promise<string>;

  constructor(settings: AnthropicSettings, deps: LlmProviderDeps) {
    this.id = `anthropic:${settings.model}`;
    this.#settings = settings;
    this.#deps = deps;
    this.#apiKey = lazyApiKey(this.id, settings.api_key_secret, deps.resolveSecret);
  }

  async complete(
    request: LlmCompleteRequest,
    options: LlmCallOptions = {},
  ): Promise<LlmCompleteResult> {
    const key = await this.#apiKey();
    // Per call, like the OpenAI provider: no long-lived object holds the key.
    const client = new Anthropic({
      // Passing the key makes it the client's only credential: no env or profile lookup.
      apiKey: key,
      baseURL: this.#settings.base_url ?? ANTHROPIC_BASE_URL,
      timeout: this.#deps.timeoutMs ?? LLM_TIMEOUT_MS,
      maxRetries: this.#deps.maxRetries ?? LLM_MAX_RETRIES,
      // ANTHROPIC_LOG=debug would print requests to the console, outside the host's redaction.
      logLevel: 'off',
      // Prompts are audited by the gateway; no spans go to a tracer someone registered globally.
      openTelemetry: false,
    });
    let raw: unknown;
    try {
      raw = await client.messages.create(this.#params(request), { signal: options.signal });
    } catch (e) {
      throw toLlmError(this.id, e, classifyAnthropicError, [key], options.signal);
    }
    return this.#result(request, raw);
  }

  #params(request: LlmCompleteRequest): MessageCreateParamsNonStreaming {
    const system = request.messages
      .filter((m) => m.role === 'system')
      .map((m) => m.content)
      .join('\n\n');
    const params: MessageCreateParamsNonStreaming = {
      model: this.#settings.model,
      max_tokens: request.max_output_tokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
      messages: toAnthropicMessages(request.messages),
    };
    // The Messages API has no system role: system text goes in its own field.
    if (system !== '') params.system = system;
    if (request.tools !== undefined && request.tools.length > 0)
      params.tools = request.tools.map((t) => ({
        name: t.name,
        description: t.description,
        input_schema: { ...t.parameters, type: 'object' },
      }));
    // `temperature` is not sent: the Messages API of this SDK no longer takes it.
    return params;
  }

  #result(request: LlmCompleteRequest, raw: unknown): LlmCompleteResult {
    const parsed = messageSchema.safeParse(raw);
    if (!parsed.success) throw badResponse(this.id, 'the answer is not a Messages API message');
    const response = parsed.data;
    const text: string[] = [];
    const toolCalls: LlmToolCall[] = [];
    for (const block of response.content) {
      if ('text' in block) text.push(block.text);
      else if ('input' in block) {
        const input = block.input;
        if (typeof input !== 'object' || input === null || Array.isArray(input))
          throw badResponse(this.id, `tool call ${block.name} has input that is not a JSON object`);
        toolCalls.push({
          id: block.id,
          name: block.name,
          arguments: input as Record<string, unknown>,
        });
      }
    }
    const message = { role: 'assistant' as const, content: text.join(''), tool_calls: toolCalls };
    const usage = response.usage;
    return checkResult(this.id, {
      message,
      stop_reason: stopReason(response.stop_reason),
      usage:
        usage === undefined || usage === null
          ? estimateUsage(request, message)
          : {
              // Cached prompt tokens are reported apart from input_tokens but are still prompt.
              input_tokens:
                usage.input_tokens +
                (usage.cache_creation_input_tokens ?? 0) +
                (usage.cache_read_input_tokens ?? 0),
              output_tokens: usage.output_tokens,
              estimated: false,
            },
      model: response.model ?? this.#settings.model,
    });
  }
}

/**
 * Maps the conversation to Messages API turns. Tool results become `tool_result` blocks
 * of a user turn, and consecutive turns of one role are merged, because the API wants all
 * results of one assistant turn in the single user turn that follows it.
 */
function toAnthropicMessages(messages: readonly LlmMessage[]): MessageParam[] {
  const out: { role: 'user' | 'assistant'; content: ContentBlockParam[] }[] = [];
  for (const m of messages) {
    let role: 'user' | 'assistant';
    let blocks: ContentBlockParam[];
    switch (m.role) {
      case 'system':
        continue;
      case 'user':
        role = 'user';
        blocks = [{ type: 'text', text: m.content }];
        break;
      case 'assistant':
        role = 'assistant';
        blocks = [
          // The API rejects empty text blocks; a turn of only tool calls has none.
          ...(m.content === '' ? [] : [{ type: 'text' as const, text: m.content }]),
          ...(m.tool_calls ?? []).map((c) => ({
            type: 'tool_use' as const,
            id: c.id,
            name: c.name,
            input: c.arguments,
          })),
        ];
        break;
      case 'tool':
        role = 'user';
        blocks = [
          {
            type: 'tool_result',
            tool_use_id: m.tool_call_id,
            content: m.content,
            ...(m.is_error === undefined ? {} : { is_error: m.is_error }),
          },
        ];
        break;
    }
    const last = out.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  }
  return out;
}

function stopReason(reason: string | null | undefined): LlmStopReason {
  switch (reason ?? '') {
    case 'end_turn':
    case 'stop_sequence':
      return 'end';
    case 'tool_use':
      return 'tool_use';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'max_tokens';
    default:
      return 'other';
  }
}

function classifyAnthropicError(e: unknown): LlmFailure {
  if (e instanceof Anthropic.APIUserAbortError) return { kind: 'aborted' };
  if (e instanceof Anthropic.APIConnectionTimeoutError) return { kind: 'timeout' };
  if (e instanceof Anthropic.APIConnectionError) return connectionFailure(e);
  if (e instanceof Anthropic.APIError && typeof e.status === 'number')
    return statusFailure(e.status, e.headers as Headers | undefined);
  return { kind: 'unknown' };
}
