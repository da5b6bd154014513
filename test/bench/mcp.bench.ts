/**
 * MCP call overhead (issue 25): a no-op tool call (`echo-notes__echo`) round trip over
 * `/mcp` — the official SDK client, Streamable HTTP on 127.0.0.1, the session's external run
 * metering the step, then the execute pipeline — against the same call through the agent
 * channel (a worker child process over stdio, `RunSegment` metering, the same pipeline),
 * the baseline, measured in the same run: half before the MCP calls and half after.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { pino } from 'pino';
import type { Run } from '../../contracts/runs.ts';
import { parseHostConfig } from '../../main/config.ts';
import { Host, type StartedHost } from '../../main/host.ts';
import { DEFAULT_POLICY_PACK } from '../../main/policy/policy-packs.ts';
import { MCP_TRUSTED_CLIENT } from '../support/test-policy-packs.ts';
import { makeTempDir, removeTempDir } from '../support/test-store.ts';
import { ECHO_NOTES_DIR } from '../integration/autonomy/helpers/autonomy-host.ts';
import { agentChannelCalls } from './agent-channel-calls.ts';
import { compared, mean, percentile, type BenchResult } from './bench-result.ts';

const ECHO = 'echo-notes__echo';
const WARMUP = 50;
const CALLS = 600;
/** The MCP session's run may take every call of the bench (the default pack stops at 50). */
const BENCH_PACK = {
  ...MCP_TRUSTED_CLIENT,
  id: 'mcp-bench',
  default_budget: { ...DEFAULT_POLICY_PACK.default_budget, max_steps: 10_000 },
};

export async function run(): Promise<BenchResult> {
  const dataDir = await makeTempDir('ccos-bench-mcp-');
  // No LLM provider: the supervisor stays idle; both paths are driven by hand.
  const host = new Host(
    parseHostConfig(
      {
        data_dir: dataDir,
        log_level: 'silent',
        gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
      },
      {},
    ),
    { logger: pino({ level: 'silent' }), policyPacks: [BENCH_PACK] },
  );
  try {
    const s = await host.start();
    await s.skills.install(ECHO_NOTES_DIR, { actor: 'bench' });
    const mcp = await connect(s);
    const newRunning = async (goal: string): Promise<Run> => {
      const created = await s.runs.create(
        { goal, budget: { max_steps: 10_000 } },
        { actor: 'bench' },
      );
      return s.runs.transition(created.id, 'running', { actor: 'bench' });
    };
    const overChannel = async (count: number): Promise<number[]> =>
      agentChannelCalls(s, await newRunning('channel'), ECHO, count);
    const overMcp = async (count: number): Promise<number[]> => {
      const samples: number[] = [];
      for (let i = 0; i < count; i++) {
        const start = performance.now();
        const result = (await mcp.callTool({
          name: ECHO,
          arguments: { text: `call ${i}` },
        })) as CallToolResult;
        samples.push(performance.now() - start);
        if (result.isError === true) throw new Error(`MCP call: ${JSON.stringify(result)}`);
      }
      return samples;
    };

    await overChannel(WARMUP);
    await overMcp(WARMUP);
    const channel = await overChannel(CALLS / 2);
    const viaMcp = await overMcp(CALLS);
    channel.push(...(await overChannel(CALLS / 2)));
    await mcp.close();
    const verified = await s.chain.verify();
    if (!verified.ok) throw new Error(`chain broken after the bench: ${verified.message}`);
    channel.sort((a, b) => a - b);
    viaMcp.sort((a, b) => a - b);

    return {
      suite: 'mcp',
      rows: [
        compared('tool call p50', percentile(viaMcp, 0.5), percentile(channel, 0.5)),
        compared('tool call p99', percentile(viaMcp, 0.99), percentile(channel, 0.99)),
        compared('tool call mean', mean(viaMcp), mean(channel)),
        {
          metric: 'MCP minus channel, p50',
          value: percentile(viaMcp, 0.5) - percentile(channel, 0.5),
          unit: 'ms',
        },
      ],
      notes: [
        `${viaMcp.length} calls of ${ECHO} over /mcp (SDK client, Streamable HTTP, one session and its external run) vs ${channel.length} over the agent channel (worker child process, stdio; baseline, half before and half after), after ${WARMUP} warm-up calls each`,
        `load average at the end: ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' / ')}`,
        `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}, Node ${process.version}`,
      ],
    };
  } finally {
    await host.stop();
    await removeTempDir(dataDir);
  }
}

/** An SDK client on the host's `/mcp`, with a connector token whose runs use the bench pack. */
async function connect(s: StartedHost): Promise<Client> {
  const admin = (await readFile(s.adminTokenFile, 'utf8')).trim();
  const api = async (method: string, path: string, body: unknown): Promise<unknown> => {
    const res = await fetch(`${s.gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  await api('PUT', '/v1/connectors/bench', { allowed_packs: [BENCH_PACK.id] });
  const { token } = (await api('POST', '/v1/tokens', {
    kind: 'connector',
    label: 'bench',
    connector_id: 'bench',
    scopes: ['mcp'],
  })) as { token: string };
  const client = new Client({ name: 'ccos-bench', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${s.gateway.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}
