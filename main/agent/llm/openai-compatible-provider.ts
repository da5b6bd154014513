import OpenAI from 'openai';
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
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
import { checkResult, parseToolArguments } from './check-result.ts';
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

type OpenAiCompatibleSettings = Extract<LlmProviderSettings, { kind: 'openai_compatible' }>;

/**
 * The OpenAI SDK refuses to start without a key, but Ollama, LM Studio and vLLM need
 * none and ignore the header, so keyless settings send this placeholder.
 */
const NO_KEY = 'no-key';

/**
 * The parts of a chat completion we read. The SDK's types are not checked at run time and
 * local servers differ in what they fill in, so the response is parsed like any input.
 */
const chatCompletionSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullish(),
        message: z.object({
          content: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                id: z.string().nullish(),
                type: z.string().nullish(),
                function: z.object({ name: z.string(), arguments: z.string().nullish() }),
              }),
            )
            .nullish(),
        }),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.int().nonnegative(),
      completion_tokens: z.int().nonnegative(),
    })
    .nullish(),
});

/**
 * Chat completions with tools through the official `openai` SDK, for any server that
 * speaks the OpenAI API at `base_url`: OpenAI, Ollama, LM Studio, vLLM, OpenRouter.
 */
export class OpenAiCompatibleProvider implements LlmProvider {
  readonly id: string;
  readonly #settings: OpenAiCompatibleSettings;
  readonly #deps: LlmProviderDeps;
  readonly #apiKey: (() => Promise<string>) | undefined;
  /** Counts tool calls that came without an id, so the ids we give them stay unique. */
  #unnamedCalls = 0;

  constructor(settings: OpenAiCompatibleSettings, deps: LlmProviderDeps) {
    this.id = `openai_compatible:${settings.model}`;
    this.#settings = settings;
    this.#deps = deps;
    this.#apiKey =
      settings.api_key_secret === undefined
        ? undefined
        : lazyApiKey(this.id, settings.api_key_secret, deps.resolveSecret);
  }

  async complete(
    request: LlmCompleteRequest,
    options: LlmCallOptions = {},
  ): Promise<LlmCompleteResult> {
    const key = this.#apiKey === undefined ? undefined : await this.#apiKey();
    // A fresh client per call is cheap (no connection state of its own) and means the key
    // is never held by a long-lived object that something could log.
    const client = new OpenAI({
      apiKey: key ?? NO_KEY,
      baseURL: this.#settings.base_url,
      // Explicit nulls stop the SDK from reading OPENAI_ORG_ID / OPENAI_PROJECT_ID from the
      // host's environment and sending them to whatever server base_url names.
      organization: null,
      project: null,
      timeout: this.#deps.timeoutMs ?? LLM_TIMEOUT_MS,
      maxRetries: this.#deps.maxRetries ?? LLM_MAX_RETRIES,
      // OPENAI_LOG=debug would print requests to the console, outside the host's redaction.
      logLevel: 'off',
    });
    let raw: unknown;
    try {
      raw = await client.chat.completions.create(this.#params(request), {
        signal: options.signal,
      });
    } catch (e) {
      throw toLlmError(
        this.id,
        e,
        classifyOpenAiError,
        key === undefined ? [] : [key],
        options.signal,
      );
    }
    return this.#result(request, raw);
  }

  #params(request: LlmCompleteRequest): ChatCompletionCreateParamsNonStreaming {
    const params: ChatCompletionCreateParamsNonStreaming = {
      model: this.#settings.model,
      messages: request.messages.map(toOpenAiMessage),
    };
    if (request.tools !== undefined && request.tools.length > 0)
      params.tools = request.tools.map((t): ChatCompletionTool => ({
        type: 'function',
        function: { name: t.name, description: t.description, parameters: t.parameters },
      }));
    if (request.max_output_tokens !== undefined) {
      // OpenAI's own API rejects `max_tokens` for its newer models; the local servers this
      // provider is mostly for (Ollama, LM Studio) document only `max_tokens`.
      if (new URL(this.#settings.base_url).hostname === 'api.openai.com')
        params.max_completion_tokens = request.max_output_tokens;
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- deprecated by OpenAI only, still the field local servers document
      else params.max_tokens = request.max_output_tokens;
    }
    if (request.temperature !== undefined) params.temperature = request.temperature;
    return params;
  }

  #result(request: LlmCompleteRequest, raw: unknown): LlmCompleteResult {
    const parsed = chatCompletionSchema.safeParse(raw);
    if (!parsed.success) throw badResponse(this.id, 'the answer is not a chat completion');
    const response = parsed.data;
    const choice = response.choices[0];
    if (choice === undefined) throw badResponse(this.id, 'the answer has no choices');
    const toolCalls: LlmToolCall[] = [];
    for (const call of choice.message.tool_calls ?? []) {
      if (call.type !== undefined && call.type !== null && call.type !== 'function')
        throw badResponse(this.id, `tool call of unsupported type ${call.type}`);
      toolCalls.push({
        id: call.id ?? `call_unnamed_${++this.#unnamedCalls}`,
        name: call.function.name,
        arguments: parseToolArguments(this.id, call.function.name, call.function.arguments),
      });
    }
    const message = {
      role: 'assistant' as const,
      content: choice.message.content ?? '',
      tool_calls: toolCalls,
    };
    const usage = response.usage;
    return checkResult(this.id, {
      message,
      stop_reason: stopReason(choice.finish_reason, toolCalls.length > 0),
      // Some local servers send zeros instead of leaving usage out; neither can be charged as is.
      usage:
        usage === undefined ||
        usage === null ||
        (usage.prompt_tokens === 0 && usage.completion_tokens === 0)
          ? estimateUsage(request, message)
          : {
              input_tokens: usage.prompt_tokens,
              output_tokens: usage.completion_tokens,
              estimated: false,
            },
      model: response.model ?? this.#settings.model,
    });
  }
}

function toOpenAiMessage(m: LlmMessage): ChatCompletionMessageParam {
  switch (m.role) {
    case 'system':
    case 'user':
      return { role: m.role, content: m.content };
    case 'assistant': {
      const calls = m.tool_calls ?? [];
      if (calls.length === 0) return { role: 'assistant', content: m.content };
      return {
        role: 'assistant',
        // The API wants null rather than "" next to tool calls; some servers reject "".
        content: m.content === '' ? null : m.content,
        tool_calls: calls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: JSON.stringify(c.arguments) },
        })),
      };
    }
    case 'tool':
      return { role: 'tool', tool_call_id: m.tool_call_id, content: m.content };
  }
}

function stopReason(finish: string | null | undefined, hasToolCalls: boolean): LlmStopReason {
  // Some servers (older Ollama) say "stop" while returning tool calls; the calls decide.
  if (hasToolCalls) return 'tool_use';
  switch (finish ?? '') {
    case 'stop':
      return 'end';
    case 'tool_calls':
      return 'tool_use';
    case 'length':
      return 'max_tokens';
    default:
      return 'other';
  }
}

function classifyOpenAiError(e: unknown): LlmFailure {
  if (e instanceof OpenAI.APIUserAbortError) return { kind: 'aborted' };
  if (e instanceof OpenAI.APIConnectionTimeoutError) return { kind: 'timeout' };
  if (e instanceof OpenAI.APIConnectionError) return connectionFailure(e);
  if (e instanceof OpenAI.APIError && typeof e.status === 'number')
    return statusFailure(e.status, e.headers as Headers | undefined);
  return { kind: 'unknown' };
}
