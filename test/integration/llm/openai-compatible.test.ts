import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import type { LlmCompleteRequest, LlmProviderSettings } from '../../../contracts/llm.ts';
import { isAppError } from '../../../main/errors.ts';
import { createLlmProvider } from '../../../main/agent/llm/create-llm-provider.ts';
import type { LlmProviderDeps } from '../../../main/agent/llm/llm-provider.ts';
import { expectAbortedPromptly, expectNoSecret, rejectionOf } from '../../support/llm-test-kit.ts';
import {
  startRecordingServer,
  type CannedResponse,
  type RecordedRequest,
  type RecordingServer,
} from './recording-http-server.ts';

/** The real `openai` SDK against a faithful `/v1/chat/completions` on 127.0.0.1. */

const KEY = 'sk-test-5b1f0c9e7d2a4e8f';
const SECRET_NAME = 'OPENAI_API_KEY';

/** The request shape the real endpoint accepts; anything else is answered 400 as OpenAI does. */
const chatRequestSchema = z.object({
  model: z.string().min(1),
  messages: z
    .array(
      z.discriminatedUnion('role', [
        z.strictObject({ role: z.enum(['system', 'user']), content: z.string() }),
        z.strictObject({
          role: z.literal('assistant'),
          content: z.string().nullable(),
          tool_calls: z
            .array(
              z.strictObject({
                id: z.string(),
                type: z.literal('function'),
                function: z.strictObject({ name: z.string(), arguments: z.string() }),
              }),
            )
            .min(1)
            .optional(),
        }),
        z.strictObject({ role: z.literal('tool'), tool_call_id: z.string(), content: z.string() }),
      ]),
    )
    .min(1),
  tools: z
    .array(
      z.strictObject({
        type: z.literal('function'),
        function: z.strictObject({
          name: z.string(),
          description: z.string(),
          parameters: z.record(z.string(), z.unknown()),
        }),
      }),
    )
    .optional(),
  max_tokens: z.int().optional(),
  max_completion_tokens: z.int().optional(),
  temperature: z.number().optional(),
  stream: z.literal(false).optional(),
});

type Reply = (body: z.infer<typeof chatRequestSchema>) => CannedResponse;

function openAiError(status: number, message: string, type: string): CannedResponse {
  return { status, body: { error: { message, type, param: null, code: null } } };
}

function completion(
  message: { content: string | null; tool_calls?: unknown[] },
  finishReason: string,
  usage?: { prompt_tokens: number; completion_tokens: number },
): CannedResponse {
  return {
    status: 200,
    body: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'served-model-1',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', refusal: null, ...message },
          finish_reason: finishReason,
          logprobs: null,
        },
      ],
      ...(usage === undefined
        ? {}
        : { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }),
    },
  };
}

let server: RecordingServer;
let reply: Reply;
let secretLookups: string[];

beforeEach(async () => {
  secretLookups = [];
  reply = () => completion({ content: 'ok' }, 'stop', { prompt_tokens: 1, completion_tokens: 1 });
  server = await startRecordingServer((req: RecordedRequest): CannedResponse => {
    if (req.method !== 'POST' || req.path !== '/v1/chat/completions')
      return openAiError(
        404,
        `Unknown request URL: ${req.method} ${req.path}`,
        'invalid_request_error',
      );
    const auth = req.headers.authorization ?? '';
    // Like OpenAI, the 401 quotes the key it was given: the provider must scrub it.
    if (auth !== `Bearer ${KEY}`)
      return openAiError(
        401,
        `Incorrect API key provided: ${auth.replace(/^Bearer /, '')}`,
        'invalid_request_error',
      );
    const parsed = chatRequestSchema.safeParse(req.body);
    if (!parsed.success) return openAiError(400, parsed.error.message, 'invalid_request_error');
    return reply(parsed.data);
  });
});
afterEach(async () => {
  await server.close();
});

function deps(over: Partial<LlmProviderDeps> = {}): LlmProviderDeps {
  return {
    resolveSecret: (name) => {
      secretLookups.push(name);
      return Promise.resolve(name === SECRET_NAME ? KEY : undefined);
    },
    maxRetries: 0,
    ...over,
  };
}

type OpenAiSettings = Extract<LlmProviderSettings, { kind: 'openai_compatible' }>;

function settings(over: Partial<OpenAiSettings> = {}): OpenAiSettings {
  return {
    kind: 'openai_compatible',
    base_url: `${server.url}/v1`,
    model: 'llama-test',
    api_key_secret: SECRET_NAME,
    ...over,
  };
}

const HELLO: LlmCompleteRequest = { messages: [{ role: 'user', content: 'abcd'.repeat(10) }] };

describe('openai-compatible provider', () => {
  test('maps messages and tools to chat completions and tool calls back, with the key in Authorization', async () => {
    reply = () =>
      completion(
        {
          content: null,
          tool_calls: [
            {
              id: 'call_abc',
              type: 'function',
              function: { name: 'notes__add', arguments: '{"text":"buy milk","pinned":true}' },
            },
          ],
        },
        'tool_calls',
        { prompt_tokens: 123, completion_tokens: 17 },
      );
    const provider = createLlmProvider(settings(), deps());
    const result = await provider.complete({
      messages: [
        { role: 'system', content: 'You are careful.' },
        { role: 'user', content: 'Remember milk.' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 'call_1', name: 'notes__list', arguments: { limit: 5 } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '[]' },
      ],
      tools: [
        {
          name: 'notes__add',
          description: 'Adds a note.',
          parameters: { type: 'object', properties: { text: { type: 'string' } } },
        },
      ],
      max_output_tokens: 256,
      temperature: 0.2,
    });

    expect(server.requests).toHaveLength(1);
    const sent = server.requests[0];
    expect(sent?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent?.body).toEqual({
      model: 'llama-test',
      messages: [
        { role: 'system', content: 'You are careful.' },
        { role: 'user', content: 'Remember milk.' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'notes__list', arguments: '{"limit":5}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '[]' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'notes__add',
            description: 'Adds a note.',
            parameters: { type: 'object', properties: { text: { type: 'string' } } },
          },
        },
      ],
      // A local server gets the field it documents; api.openai.com would get max_completion_tokens.
      max_tokens: 256,
      temperature: 0.2,
    });
    expect(result).toEqual({
      message: {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'call_abc', name: 'notes__add', arguments: { text: 'buy milk', pinned: true } },
        ],
      },
      stop_reason: 'tool_use',
      usage: { input_tokens: 123, output_tokens: 17, estimated: false },
      model: 'served-model-1',
    });
    expect(provider.id).toBe('openai_compatible:llama-test');
  });

  test('a response without usage is charged an estimate of ceil(chars/4), flagged estimated', async () => {
    reply = () => completion({ content: 'hello world!' }, 'stop');
    const result = await createLlmProvider(settings(), deps()).complete(HELLO);
    // 40 prompt characters -> 10 tokens; 12 output characters -> 3 tokens.
    expect(result.usage).toEqual({ input_tokens: 10, output_tokens: 3, estimated: true });
    expect(result.stop_reason).toBe('end');
    expect(result.message.content).toBe('hello world!');
  });

  test('finish_reason length maps to max_tokens', async () => {
    reply = () =>
      completion({ content: 'cut' }, 'length', { prompt_tokens: 5, completion_tokens: 9 });
    const result = await createLlmProvider(settings(), deps()).complete(HELLO);
    expect(result.stop_reason).toBe('max_tokens');
  });

  test('the key is read by name once and reused across calls', async () => {
    const provider = createLlmProvider(settings(), deps());
    await provider.complete(HELLO);
    await provider.complete(HELLO);
    expect(secretLookups).toEqual([SECRET_NAME]);
  });

  test('keyless settings (Ollama, LM Studio) read no secret and send a placeholder the server ignores', async () => {
    const keyless = await startRecordingServer(() =>
      completion({ content: 'hi' }, 'stop', { prompt_tokens: 2, completion_tokens: 1 }),
    );
    try {
      const provider = createLlmProvider(
        { kind: 'openai_compatible', base_url: `${keyless.url}/v1`, model: 'llama-test' },
        deps(),
      );
      const result = await provider.complete(HELLO);
      expect(result.message.content).toBe('hi');
      expect(secretLookups).toEqual([]);
      expect(keyless.requests[0]?.headers.authorization).toBe('Bearer no-key');
    } finally {
      await keyless.close();
    }
  });

  test('a 401 is LLM_AUTH and neither the message nor the thrown object carries the key', async () => {
    const provider = createLlmProvider(
      settings({ api_key_secret: 'OTHER_KEY' }),
      deps({ resolveSecret: () => Promise.resolve(`${KEY}-revoked`) }),
    );
    const e = await rejectionOf(provider.complete(HELLO));
    expect(isAppError(e, 'LLM_AUTH')).toBe(true);
    expect((e as Error).message).toContain('401');
    expect((e as Error).message).toContain('[REDACTED]');
    expect((e as Error).cause).toBeUndefined();
    expectNoSecret(e, `${KEY}-revoked`);
  });

  test('a 500 is LLM_UNAVAILABLE after exactly one SDK retry by default', async () => {
    reply = () => openAiError(500, 'The server had an error', 'server_error');
    const provider = createLlmProvider(settings(), deps({ maxRetries: undefined }));
    const e = await rejectionOf(provider.complete(HELLO));
    expect(isAppError(e, 'LLM_UNAVAILABLE')).toBe(true);
    expect((e as { details: unknown }).details).toEqual({
      provider: 'openai_compatible:llama-test',
      status: 500,
    });
    expect(server.requests).toHaveLength(2);
    expectNoSecret(e, KEY);
  });

  test('a 400 (request refused) is LLM_REJECTED and a 429 is LLM_RATE_LIMITED', async () => {
    reply = () => openAiError(400, 'context length exceeded', 'invalid_request_error');
    const provider = createLlmProvider(settings(), deps());
    expect(isAppError(await rejectionOf(provider.complete(HELLO)), 'LLM_REJECTED')).toBe(true);
    reply = () => openAiError(429, 'Rate limit reached', 'requests');
    expect(isAppError(await rejectionOf(provider.complete(HELLO)), 'LLM_RATE_LIMITED')).toBe(true);
  });

  test('aborting a slow call rejects promptly with LLM_ABORTED', async () => {
    reply = () => ({ ...completion({ content: 'late' }, 'stop'), delayMs: 10_000 });
    const provider = createLlmProvider(settings(), deps());
    await expectAbortedPromptly((signal) => provider.complete(HELLO, { signal }), KEY);
  });

  test('a call slower than the timeout is LLM_UNAVAILABLE', async () => {
    reply = () => ({ ...completion({ content: 'late' }, 'stop'), delayMs: 10_000 });
    const e = await rejectionOf(
      createLlmProvider(settings(), deps({ timeoutMs: 100 })).complete(HELLO),
    );
    expect(isAppError(e, 'LLM_UNAVAILABLE')).toBe(true);
    expect((e as Error).message).toMatch(/timed out/);
  });

  test('a refused connection is LLM_UNAVAILABLE', async () => {
    const closed = await startRecordingServer(() => completion({ content: '' }, 'stop'));
    const url = closed.url;
    await closed.close();
    const e = await rejectionOf(
      createLlmProvider(settings({ base_url: `${url}/v1` }), deps()).complete(HELLO),
    );
    expect(isAppError(e, 'LLM_UNAVAILABLE')).toBe(true);
    expectNoSecret(e, KEY);
  });

  test('a secret that is not set is LLM_AUTH and no request is sent', async () => {
    const provider = createLlmProvider(settings({ api_key_secret: 'MISSING_KEY' }), deps());
    const e = await rejectionOf(provider.complete(HELLO));
    expect(isAppError(e, 'LLM_AUTH')).toBe(true);
    expect((e as Error).message).toContain('MISSING_KEY');
    expect(server.requests).toHaveLength(0);
  });

  test('tool-call arguments that are not a JSON object are LLM_BAD_RESPONSE', async () => {
    reply = () =>
      completion(
        {
          content: null,
          tool_calls: [
            {
              id: 'call_x',
              type: 'function',
              function: { name: 'notes__add', arguments: '{oops' },
            },
          ],
        },
        'tool_calls',
      );
    const e = await rejectionOf(createLlmProvider(settings(), deps()).complete(HELLO));
    expect(isAppError(e, 'LLM_BAD_RESPONSE')).toBe(true);
  });

  test('an answer with no choices is LLM_BAD_RESPONSE', async () => {
    reply = () => ({ status: 200, body: { id: 'x', object: 'chat.completion', choices: [] } });
    const e = await rejectionOf(createLlmProvider(settings(), deps()).complete(HELLO));
    expect(isAppError(e, 'LLM_BAD_RESPONSE')).toBe(true);
  });
});
