import { fileURLToPath } from 'node:url';
import type { Run } from '../../contracts/runs.ts';
import { serveAgentChannel } from '../../main/agent/channel/serve-agent-channel.ts';
import { ChildProcessSpawner } from '../../main/agent/spawn/child-process-spawner.ts';
import type { StartedHost } from '../../main/host.ts';
import { hostRunSegment } from '../support/host-run-segment.ts';

const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const WORKER = fileURLToPath(new URL(`./fixtures/tool-call-worker${extension}`, import.meta.url));

/**
 * `count` round trips of `tool` over the agent channel, as a worker makes them: a child
 * process (the real agent client over stdio, under the spawner's permission flags) calls it
 * through `tools/call`, and the host answers with the real `RunSegment` (metering the step,
 * then the execute pipeline). `run` must be `running`; no LLM call is made. Returns the
 * worker's own timings (ms), in call order.
 */
export async function agentChannelCalls(
  s: StartedHost,
  run: Run,
  tool: string,
  count: number,
): Promise<number[]> {
  const segment = hostRunSegment(s, run, 1000);
  const minted = await s.tokens.create(
    { kind: 'agent_session', label: 'bench', run_id: run.id },
    { actor: 'bench' },
  );
  const worker = new ChildProcessSpawner({ entry: WORKER }).spawn({
    runId: run.id,
    token: minted.token,
    env: { CCOS_BENCH_CALLS: String(count), CCOS_BENCH_TOOL: tool },
  });
  let stderr = '';
  worker.stderr.setEncoding('utf8');
  worker.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const channel = await serveAgentChannel({
    input: worker.stdout,
    output: worker.stdin,
    handlers: segment,
    token: minted.token,
    onProtocolError: (reason) => {
      worker.kill('SIGKILL');
      stderr += `\nprotocol error: ${reason}`;
    },
  });
  const exit = await worker.exited;
  await channel.dispose();
  await worker.dispose();
  const line = stderr.split('\n').find((l) => l.startsWith('timings '));
  if (exit.code !== 0 || line === undefined)
    throw new Error(`bench worker failed (${String(exit.code)}): ${stderr}`);
  return JSON.parse(line.slice('timings '.length)) as number[];
}
