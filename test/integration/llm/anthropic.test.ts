import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import type { LlmCompleteRequest, LlmProviderSettings } from '../../../contracts/llm.ts';
import { ANTHROPIC_DEFAULT_MAX_TOKENS } from '../../../main/agent/llm/anthropic-provider.ts';
import { createLlmProvider } from '../../../main/agent/llm/create-llm-provider.ts';
import type { LlmProviderDeps } from '../../../main/agent/llm/llm-provider.ts';
import { isAppError } from '../../../main/errors.ts';
import { expectAbortedPromptly, expectNoSecret, rejectionOf } from '../../support/llm-test-kit.ts';
import {
  startRecordingServer,
  type CannedResponse,
  type RecordedRequest,
  type RecordingServer,
} from './recording-http-server.ts';

/** The real `@anthropic-ai/sdk` against a faithful `/v1/messages` on 127.0.0.1. */

const KEY = 'sk-ant-test-0e4c2b7a9f13d6e5';
const SECRET_NAME = 'ANTHROPIC_API_KEY';

const textBlock = z.strictObject({ type: z.literal('text'), text: z.string().min(1) });
/** The request shape the Messages API accepts; anything else is answered 400 as it does. */
const messagesRequestSchema = z.strictObject({
  model: z.string().min(1),
  max_tokens: z.int().positive(),
  system: z.string().optional(),
  messages: z
    .array(
      z.strictObject({
        role: z.enum(['user', 'assistant']),
        content: z.union([
          z.string(),
          z.array(
            z.discriminatedUnion('type', [
              textBlock,
              z.strictObject({
                type: z.literal('tool_use'),
                id: z.string(),
                name: z.string(),
                input: z.record(z.string(), z.unknown()),
              }),
              z.strictObject({
                type: z.literal('tool_result'),
                tool_use_id: z.string(),
                content: z.string(),
                is_error: z.boolean().optional(),
              }),
            ]),
          ),
        ]),
      }),
    )
    .min(1)
    // The API requires turns to alternate, starting with the user.
    .refine((ms) => ms.every((m, i) => m.role === (i % 2 === 0 ? 'user' : 'assistant')), {
      error: 'roles must alternate starting with user',
    }),
  tools: z
    .array(
      z.strictObject({
        name: z.string(),
        description: z.string(),
        input_schema: z.looseObject({ type: z.literal('object') }),
      }),
    )
    .optional(),
});

/**
 * The key as the API reads it: `x-api-key`, or an `Authorization: Bearer` header, which is
 * what SDK 1.x sends for an API key.
 */
function apiKeyOf(req: RecordedRequest): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string') return header;
  return req.headers.authorization?.replace(/^Bearer /, '');
}

type Reply = (body: z.infer<typeof messagesRequestSchema>) => CannedResponse;

function anthropicError(status: number, type: string, message: string): CannedResponse {
  return { status, body: { type: 'error', error: { type, message } } };
}

function message(
  content: unknown[],
  stopReason: string,
  usage: Record<string, number> | null = { input_tokens: 10, output_tokens: 5 },
): CannedResponse {
  return {
    status: 200,
    body: {
      id: 'msg_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-served-1',
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      ...(usage === null ? {} : { usage }),
    },
  };
}

let server: RecordingServer;
let reply: Reply;

beforeEach(async () => {
  reply = () => message([{ type: 'text', text: 'ok' }], 'end_turn');
  server = await startRecordingServer((req: RecordedRequest): CannedResponse => {
    if (req.method !== 'POST' || req.path !== '/v1/messages')
      return anthropicError(404, 'not_found_error', `${req.method} ${req.path} not found`);
    if (typeof req.headers['anthropic-version'] !== 'string')
      return anthropicError(400, 'invalid_request_error', 'anthropic-version header is required');
    const key = apiKeyOf(req);
    // A 401 that quotes the key it was given, so the test sees whether the provider scrubs it.
    if (key !== KEY)
      return anthropicError(401, 'authentication_error', `invalid API key ${String(key)}`);
    const parsed = messagesRequestSchema.safeParse(req.body);
    if (!parsed.success) return anthropicError(400, 'invalid_request_error', parsed.error.message);
    return reply(parsed.data);
  });
});
afterEach(async () => {
  await server.close();
});

type AnthropicSettings = Extract<LlmProviderSettings, { kind: 'anthropic' }>;

function settings(over: Partial<AnthropicSettings> = {}): AnthropicSettings {
  return {
    kind: 'anthropic',
    base_url: server.url,
    model: 'claude-test',
    api_key_secret: SECRET_NAME,
    ...over,
  };
}

function deps(over: Partial<LlmProviderDeps> = {}): LlmProviderDeps {
  return {
    resolveSecret: (name) => Promise.resolve(name === SECRET_NAME ? KEY : undefined),
    maxRetries: 0,
    ...over,
  };
}

const HELLO: LlmCompleteRequest = { messages: [{ role: 'user', content: 'hi' }] };

describe('anthropic provider', () => {
  test('splits the system prompt out, merges tool results into one user turn and maps tool_use back', async () => {
    reply = () =>
      message(
        [
          { type: 'text', text: 'Adding it.' },
          { type: 'tool_use', id: 'toolu_9', name: 'notes__add', input: { text: 'milk' } },
        ],
        'tool_use',
        { input_tokens: 200, output_tokens: 30, cache_read_input_tokens: 50 },
      );
    const provider = createLlmProvider(settings(), deps());
    const result = await provider.complete({
      messages: [
        { role: 'system', content: 'You are careful.' },
        { role: 'system', content: 'Use tools.' },
        { role: 'user', content: 'Remember milk.' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            { id: 'toolu_1', name: 'notes__list', arguments: { limit: 5 } },
            { id: 'toolu_2', name: 'notes__count', arguments: {} },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '[]' },
        { role: 'tool', tool_call_id: 'toolu_2', content: 'failed', is_error: true },
      ],
      tools: [
        {
          name: 'notes__add',
          description: 'Adds a note.',
          parameters: { type: 'object', properties: { text: { type: 'string' } } },
        },
      ],
    });

    const sent = server.requests[0];
    expect(sent === undefined ? undefined : apiKeyOf(sent)).toBe(KEY);
    expect(sent?.body).toEqual({
      model: 'claude-test',
      max_tokens: ANTHROPIC_DEFAULT_MAX_TOKENS,
      system: 'You are careful.\n\nUse tools.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Remember milk.' }] },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_1', name: 'notes__list', input: { limit: 5 } },
            { type: 'tool_use', id: 'toolu_2', name: 'notes__count', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '[]' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: 'failed', is_error: true },
          ],
        },
      ],
      tools: [
        {
          name: 'notes__add',
          description: 'Adds a note.',
          input_schema: { type: 'object', properties: { text: { type: 'string' } } },
        },
      ],
    });
    expect(result).toEqual({
      message: {
        role: 'assistant',
        content: 'Adding it.',
        tool_calls: [{ id: 'toolu_9', name: 'notes__add', arguments: { text: 'milk' } }],
      },
      stop_reason: 'tool_use',
      // Cached prompt tokens are prompt tokens too.
      usage: { input_tokens: 250, output_tokens: 30, estimated: false },
      model: 'claude-served-1',
    });
    expect(provider.id).toBe('anthropic:claude-test');
  });

  test('max_output_tokens is sent as max_tokens and stop reasons map to the contract', async () => {
    reply = () => message([{ type: 'text', text: 'cut' }], 'max_tokens');
    const provider = createLlmProvider(settings(), deps());
    const result = await provider.complete({ ...HELLO, max_output_tokens: 64 });
    expect((server.requests[0]?.body as { max_tokens: number }).max_tokens).toBe(64);
    expect(result.stop_reason).toBe('max_tokens');
    reply = () => message([{ type: 'text', text: 'done' }], 'end_turn');
    expect((await provider.complete(HELLO)).stop_reason).toBe('end');
  });

  test('an answer without usage is charged an estimate, flagged estimated', async () => {
    reply = () => message([{ type: 'text', text: 'hello world!' }], 'end_turn', null);
    const result = await createLlmProvider(settings(), deps()).complete(HELLO);
    expect(result.usage).toEqual({ input_tokens: 1, output_tokens: 3, estimated: true });
  });

  test('a 401 is LLM_AUTH and the key appears nowhere in what is thrown', async () => {
    const wrongKey = `${KEY}-old`;
    const provider = createLlmProvider(
      settings(),
      deps({ resolveSecret: () => Promise.resolve(wrongKey) }),
    );
    const e = await rejectionOf(provider.complete(HELLO));
    expect(isAppError(e, 'LLM_AUTH')).toBe(true);
    expect((e as Error).message).toContain('[REDACTED]');
    expectNoSecret(e, wrongKey);
  });

  test('a 500 is LLM_UNAVAILABLE with its status, and the key is not in it', async () => {
    reply = () => anthropicError(500, 'api_error', 'Internal server error');
    const e = await rejectionOf(createLlmProvider(settings(), deps()).complete(HELLO));
    expect(isAppError(e, 'LLM_UNAVAILABLE')).toBe(true);
    expect((e as { details: unknown }).details).toEqual({
      provider: 'anthropic:claude-test',
      status: 500,
    });
    expectNoSecret(e, KEY);
  });

  test('aborting a slow call rejects promptly with LLM_ABORTED', async () => {
    reply = () => ({ ...message([{ type: 'text', text: 'late' }], 'end_turn'), delayMs: 10_000 });
    const provider = createLlmProvider(settings(), deps());
    await expectAbortedPromptly((signal) => provider.complete(HELLO, { signal }), KEY);
  });

  test('a secret the store does not hold is LLM_AUTH before any request', async () => {
    const e = await rejectionOf(
      createLlmProvider(settings({ api_key_secret: 'NOT_THERE' }), deps()).complete(HELLO),
    );
    expect(isAppError(e, 'LLM_AUTH')).toBe(true);
    expect(server.requests).toHaveLength(0);
  });
});
