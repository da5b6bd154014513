import { fileURLToPath } from 'node:url';
import type { Run } from '../../contracts/runs.ts';
import { serveAgentChannel } from '../../main/agent/channel/serve-agent-channel.ts';
import { ChildProcessSpawner } from '../../main/agent/spawn/child-process-spawner.ts';
import type { StartedHost } from '../../main/host.ts';
import { DEFAULT_POLICY_PACK } from '../../main/policy/policy-packs.ts';
import { memoryPolicyOf } from '../../main/memory/memory-policy.ts';
import { segmentQuotasOf } from '../../main/runs/segment-quotas.ts';
import { DEFAULT_LLM_RETRY } from '../../main/supervisor/llm-failure.ts';
import { RunSegment } from '../../main/supervisor/run-segment.ts';

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
  const segment = new RunSegment(
    {
      runs: s.runs,
      chain: s.chain,
      clock: { now: () => new Date() },
      meter: s.meter,
      pipeline: s.pipeline,
      checkpoints: s.checkpoints,
      payloads: s.payloads,
      registry: s.skillRegistry,
      redactor: s.redactor,
      labels: { db: s.store.db, policies: s.policies, llmLocation: 'local' },
      memory: s.memory,
      llm: {
        id: 'none',
        complete: () => Promise.reject(new Error('the bench makes no LLM calls')),
      },
      logger: s.logger,
    },
    run,
    {
      index: 0,
      max_steps: 1000,
      max_ms: 10 * 60 * 1000,
      quotas: segmentQuotasOf(DEFAULT_POLICY_PACK),
      memory: memoryPolicyOf(DEFAULT_POLICY_PACK),
      llm_retry: DEFAULT_LLM_RETRY,
    },
    new AbortController().signal,
  );
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
