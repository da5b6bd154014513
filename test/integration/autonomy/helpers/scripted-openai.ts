import {
  startRecordingServer,
  type CannedResponse,
  type RecordedRequest,
  type RecordingServer,
} from '../../llm/recording-http-server.ts';

/** One answer of an OpenAI-compatible chat completion, as the real SDK parses it. */
function completion(message: Record<string, unknown>, finish: string): CannedResponse {
  return {
    status: 200,
    body: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'fake-model',
      choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
      usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
    },
  };
}

/** An answer that calls one tool. */
export function toolCallAnswer(
  id: string,
  name: string,
  args: Record<string, unknown>,
): CannedResponse {
  return completion(
    {
      role: 'assistant',
      refusal: null,
      content: null,
      tool_calls: [{ id, type: 'function', function: { name, arguments: JSON.stringify(args) } }],
    },
    'tool_calls',
  );
}

/** A final answer: no tool calls, so the worker claims completion. */
export function finalAnswer(content = 'The goal is met.'): CannedResponse {
  return completion({ role: 'assistant', refusal: null, content }, 'stop');
}

/**
 * A local OpenAI-compatible LLM server that answers the script in order (the last answer
 * repeats) and records every request's bytes: what the host really sent a provider.
 */
export async function startScriptedLlm(
  script: readonly CannedResponse[] | ((request: RecordedRequest, n: number) => CannedResponse),
): Promise<RecordingServer> {
  let n = 0;
  return startRecordingServer((request) => {
    const i = n++;
    if (typeof script === 'function') return script(request, i);
    const answer = script[Math.min(i, script.length - 1)];
    if (answer === undefined) throw new Error('an empty script');
    return answer;
  });
}

/** The messages of one recorded chat completion request. */
export function sentMessages(request: RecordedRequest): { role: string; content: unknown }[] {
  const body = request.body as { messages?: { role: string; content: unknown }[] } | undefined;
  return body?.messages ?? [];
}
