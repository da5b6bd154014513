import {
  startRecordingServer,
  type CannedResponse,
  type RecordedRequest,
  type RecordingServer,
} from '../../llm/recording-http-server.ts';

/** One scripted model turn: tool calls, or a final answer. */
export type ScriptedTurn = { tool: string; args: Record<string, unknown> } | { final: string };

let callCounter = 0;

/** An OpenAI chat completion answering with `turn`. */
function completion(turn: ScriptedTurn): CannedResponse {
  const message =
    'final' in turn
      ? { role: 'assistant', refusal: null, content: turn.final }
      : {
          role: 'assistant',
          refusal: null,
          content: null,
          tool_calls: [
            {
              id: `call_${++callCounter}`,
              type: 'function',
              function: { name: turn.tool, arguments: JSON.stringify(turn.args) },
            },
          ],
        };
  return {
    status: 200,
    body: {
      id: `chatcmpl-${callCounter}`,
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'fake-model',
      choices: [
        {
          index: 0,
          message,
          finish_reason: 'final' in turn ? 'stop' : 'tool_calls',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
    },
  };
}

/**
 * A local OpenAI-compatible server that answers each request with the next scripted turn and
 * records every request body, so a test can search exactly what the host sent the model.
 */
export type ScriptedLlm = {
  server: RecordingServer;
  /** Queues the turns of the next run (the runs of a test go one after another). */
  script: (turns: readonly ScriptedTurn[]) => void;
  /** Requests received since `mark` was taken. */
  requestsSince: (mark: number) => RecordedRequest[];
  mark: () => number;
};

export async function startScriptedLlm(): Promise<ScriptedLlm> {
  const queue: ScriptedTurn[] = [];
  const server = await startRecordingServer(() => {
    const turn = queue.shift();
    // Out of script: a final answer, so a run never loops on an empty queue.
    return completion(turn ?? { final: 'Nothing more to do.' });
  });
  return {
    server,
    script: (turns) => queue.push(...turns),
    requestsSince: (mark) => server.requests.slice(mark),
    mark: () => server.requests.length,
  };
}
