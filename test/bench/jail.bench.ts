/**
 * What the agent jail costs (issue 20), jailed (`BubblewrapSpawner`: namespaces, seccomp,
 * limits, the permission model inside) against unjailed (`ChildProcessSpawner`: the same
 * worker under the permission model alone), alternating in the same run:
 *
 * 1. Worker start-up: from `spawn()` to the worker's first channel message (its MCP
 *    `initialize`), the real worker program.
 * 2. One tool-call round trip as the worker sees it (`tools/call` over its stdio and back),
 *    with a host handler that answers at once, so the figure is the channel's and the jail's.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { AgentChannelHandlers } from '../../main/agent/channel/agent-channel-handlers.ts';
import { serveAgentChannel } from '../../main/agent/channel/serve-agent-channel.ts';
import { BubblewrapSpawner } from '../../main/agent/spawn/bubblewrap-spawner.ts';
import { ChildProcessSpawner } from '../../main/agent/spawn/child-process-spawner.ts';
import { detectJail } from '../../main/agent/spawn/detect-jail.ts';
import { spawnFor, type Spawner } from '../../main/agent/spawn/spawner.ts';
import { comparedAt, mean, type BenchResult, type BenchRow } from './bench-result.ts';

const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const CALL_WORKER = fileURLToPath(
  new URL(`./fixtures/tool-call-worker${extension}`, import.meta.url),
);
const TOKEN = 'bench-token';
const WARMUP_STARTS = 3;
const STARTS = 20;
/** Workers per side for the round trips, alternating; each makes `CALLS` calls, the first `WARMUP_CALLS` not counted. */
const CALL_WORKERS = 6;
const CALLS = 250;
const WARMUP_CALLS = 50;

export async function run(): Promise<BenchResult> {
  const found = await detectJail();
  if (!found.ok) throw new Error(`the jail does not work here: ${found.reason}; ${found.fix}`);
  const spawners: Record<'jailed' | 'unjailed', Spawner> = {
    jailed: new BubblewrapSpawner({ tools: found.tools }),
    unjailed: new ChildProcessSpawner(),
  };
  const starts = { jailed: [] as number[], unjailed: [] as number[] };
  for (let i = 0; i < WARMUP_STARTS + STARTS; i++) {
    // Alternating, so load changes on the machine fall on both sides alike.
    for (const side of i % 2 === 0
      ? (['jailed', 'unjailed'] as const)
      : (['unjailed', 'jailed'] as const)) {
      const ms = await startUp(spawners[side]);
      if (i >= WARMUP_STARTS) starts[side].push(ms);
    }
  }
  const callSpawners = {
    jailed: new BubblewrapSpawner({ tools: found.tools, entry: CALL_WORKER }),
    unjailed: new ChildProcessSpawner({ entry: CALL_WORKER }),
  };
  const calls = { jailed: [] as number[], unjailed: [] as number[] };
  for (let i = 0; i < CALL_WORKERS; i++) {
    for (const side of i % 2 === 0
      ? (['jailed', 'unjailed'] as const)
      : (['unjailed', 'jailed'] as const)) {
      calls[side].push(...(await toolCalls(callSpawners[side], CALLS)).slice(WARMUP_CALLS));
    }
  }
  for (const list of [starts.jailed, starts.unjailed, calls.jailed, calls.unjailed]) {
    list.sort((a, b) => a - b);
  }
  const rows: BenchRow[] = [
    comparedAt('worker start-up p50', starts.jailed, starts.unjailed, 0.5),
    comparedAt('worker start-up p90', starts.jailed, starts.unjailed, 0.9),
    {
      metric: 'worker start-up mean',
      value: mean(starts.jailed),
      unit: 'ms',
      baseline: mean(starts.unjailed),
      ratio: mean(starts.jailed) / mean(starts.unjailed),
    },
    comparedAt('tool call round trip p50', calls.jailed, calls.unjailed, 0.5),
    comparedAt('tool call round trip p99', calls.jailed, calls.unjailed, 0.99),
  ];
  return {
    suite: 'jail',
    rows,
    notes: [
      `value: jailed (${found.version}, seccomp ${found.seccomp ? 'on' : 'off'}${found.tools.runAs === null ? '' : `, as uid ${String(found.tools.runAs.uid)}`}); baseline: the permission model alone. ${String(STARTS)} start-ups each after ${String(WARMUP_STARTS)} warm-up, alternating; ${String(CALL_WORKERS)} workers each making ${String(CALLS)} tool calls (the first ${String(WARMUP_CALLS)} of each not counted), alternating.`,
    ],
  };
}

/** Milliseconds from spawn to the worker's first message on its channel. */
async function startUp(spawner: Spawner): Promise<number> {
  const begin = performance.now();
  const worker = spawnFor(spawner, { runId: 'bench', token: TOKEN });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.stdout.once('data', () => {
        resolve();
      });
      void worker.exited.then((exit) => {
        reject(new Error(`worker exited before it spoke: ${JSON.stringify(exit)}`));
      });
    });
    return performance.now() - begin;
  } finally {
    await worker.dispose();
  }
}

/** `count` tool calls from one worker, each timed in the worker (round trip as it sees it). */
async function toolCalls(spawner: Spawner, count: number): Promise<number[]> {
  const refuse = (): Promise<never> => Promise.reject(new Error('not used by the bench'));
  const handlers: AgentChannelHandlers = {
    sessionInfo: refuse,
    listTools: () => Promise.resolve([]),
    callTool: () => Promise.resolve({ status: 'ok', output: { ok: true } }),
    llmComplete: refuse,
    checkpoint: refuse,
    complete: refuse,
    memoryGet: refuse,
    memoryPut: refuse,
    memoryList: refuse,
  };
  const worker = spawnFor(spawner, {
    runId: 'bench',
    token: TOKEN,
    env: { CCOS_BENCH_CALLS: String(count), CCOS_BENCH_TOOL: 'bench__call' },
  });
  let stderr = '';
  worker.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const channel = await serveAgentChannel({
    input: worker.stdout,
    output: worker.stdin,
    handlers,
    token: TOKEN,
    onProtocolError: (reason) => {
      stderr += `\nprotocol error: ${reason}`;
      worker.kill('SIGKILL');
    },
  });
  const exit = await worker.exited;
  await channel.dispose();
  await worker.dispose();
  const line = stderr.split('\n').find((l) => l.startsWith('timings '));
  if (exit.code !== 0 || line === undefined) {
    throw new Error(`bench worker failed (${JSON.stringify(exit)}): ${stderr}`);
  }
  return JSON.parse(line.slice('timings '.length)) as number[];
}
