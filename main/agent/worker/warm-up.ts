/**
 * One scripted segment, run once while the worker's start-up snapshot is built
 * (`worker-snapshot-main.ts`), so that what every segment does first is done already in the
 * snapshot's heap: zod compiles a parser for each schema on its first use, the MCP client's
 * protocol paths and the agent loop's first calls run, and the JSON Schema validator the
 * client checks tool outputs with is built (issue 18: a worker's CPU at start is what limits
 * runs per second). The host here is a script over in-memory streams: no process, no file,
 * nothing of the machine or of any run ends up in the snapshot.
 */
import { PassThrough } from 'node:stream';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { AGENT_METHODS, type AgentSessionInfo } from '../../../contracts/agent-channel.ts';
import { connectAgentClient } from './agent-client.ts';
import { runAgentLoop } from './agent-loop.ts';

const WARM_UP_TOOL = 'warm_up__echo';

const SESSION: AgentSessionInfo = {
  run_id: 'run_warm_up',
  goal: 'Echo once, then finish.',
  goals: [{ ordinal: 0, text: 'Echo once, then finish.', predicate: null, state: 'open' }],
  checkpoint: null,
  segment: { index: 0, max_steps: 4, max_ms: 60_000 },
  remaining: { steps: 4, tokens: 10_000 },
};

type Request = { id?: number | string; method: string; params?: Record<string, unknown> };

/** The scripted host's result for each request, in the order a one-tool segment asks. */
function scriptedResult(request: Request, llmCalls: number): Record<string, unknown> {
  switch (request.method) {
    case 'initialize':
      return {
        protocolVersion: request.params?.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: 'warm-up', version: '1' },
      };
    case 'tools/list':
      return {
        tools: [
          {
            name: WARM_UP_TOOL,
            description: 'Echoes its text.',
            inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
            outputSchema: { type: 'object', properties: { status: { type: 'string' } } },
          },
        ],
      };
    case 'tools/call':
      return {
        content: [{ type: 'text', text: '{"status":"ok","output":"hello"}' }],
        structuredContent: { status: 'ok', output: 'hello' },
      };
    case AGENT_METHODS.sessionInfo:
      return SESSION;
    case AGENT_METHODS.llmComplete:
      return {
        message: {
          role: 'assistant',
          content: llmCalls === 1 ? '' : 'Done.',
          tool_calls:
            llmCalls === 1 ? [{ id: 'call_1', name: WARM_UP_TOOL, arguments: { text: 'hi' } }] : [],
        },
        stop_reason: llmCalls === 1 ? 'tool_use' : 'end',
        usage: { input_tokens: 10, output_tokens: 2, estimated: false },
        model: 'warm-up',
      };
    case AGENT_METHODS.checkpoint:
      return { checkpoint_id: 1 };
    case AGENT_METHODS.complete:
      return { accepted: true, unmet: [] };
    default:
      throw new Error(`the warm-up host has no answer to ${request.method}`);
  }
}

/** Answers the worker's requests on `fromWorker` with `scriptedResult`, on `toWorker`. */
function serveScript(fromWorker: PassThrough, toWorker: PassThrough): void {
  let buffered = '';
  let llmCalls = 0;
  fromWorker.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
      const request = JSON.parse(buffered.slice(0, end)) as Request;
      buffered = buffered.slice(end + 1);
      if (request.id === undefined) continue; // a notification
      if (request.method === AGENT_METHODS.llmComplete) llmCalls++;
      const result = scriptedResult(request, llmCalls);
      toWorker.write(`${JSON.stringify({ jsonrpc: '2.0', id: request.id, result })}\n`);
    }
  });
}

/**
 * Runs the scripted segment through the worker's own client and loop; throws unless it ends
 * `completed` (a contract change the script missed must fail the snapshot's build, not leave a
 * colder one). `validator` is the one the worker's real segment will use.
 */
export async function warmUpWorker(validator: jsonSchemaValidator): Promise<void> {
  const toWorker = new PassThrough();
  const fromWorker = new PassThrough();
  serveScript(fromWorker, toWorker);
  const client = await connectAgentClient({
    input: toWorker,
    output: fromWorker,
    token: 'warm-up-token-not-a-secret',
    onViolation: (v) => {
      throw new Error(`warm-up: protocol violation (${v.kind}): ${v.detail}`);
    },
    jsonSchemaValidator: validator,
  });
  try {
    const end = await runAgentLoop({ client, log: () => undefined, now: () => 0 });
    if (end !== 'completed') throw new Error(`warm-up: the scripted segment ended ${end}`);
  } finally {
    await client.close();
  }
}
