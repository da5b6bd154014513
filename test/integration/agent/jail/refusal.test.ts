/**
 * The host fails closed (issue 20): with no jail available it refuses to start agent
 * workers and says why and how to fix it (log and `GET /v1/health`); with
 * `agents.allow_unjailed` (`--unsafe-agents`) they run under the permission model and every
 * trace says unsafe — health, each `segment.started` entry and `ccos runs show`. Where the
 * jail works, health and every trace say `bubblewrap`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentIsolationStatus } from '../../../../contracts/agent-isolation.ts';
import type { Run } from '../../../../contracts/runs.ts';
import { parseHostConfig } from '../../../../main/config.ts';
import { Host, type StartedHost } from '../../../../main/host.ts';
import { makeTempDir, removeTempDir } from '../../../support/test-store.ts';
import { apiRequester, doneEntry, type ApiResponse } from '../../autonomy/helpers/autonomy-host.ts';
import { runCli } from '../../gateway/helpers/run-cli.ts';
import { describeWithJail } from './jail-kit.ts';

type Booted = {
  started: StartedHost;
  dataDir: string;
  logs: string[];
  request: (method: string, urlPath: string, json?: unknown) => Promise<ApiResponse>;
};

const hosts: { host: Host; dataDir: string }[] = [];
afterEach(async () => {
  for (const { host, dataDir } of hosts.splice(0)) {
    await host.stop();
    await removeTempDir(dataDir);
  }
});

/**
 * A host with a one-answer replay LLM and its own logger captured; `agents` as given, from
 * an environment without the suite's `CCOS_UNSAFE_AGENTS` (testHostEnv), so nothing is
 * allowed that the test does not allow.
 */
async function boot(agents: { bwrap?: string; allow_unjailed?: boolean }): Promise<Booted> {
  const dataDir = await makeTempDir('ccos-jail-refusal-');
  const transcript = path.join(dataDir, 'transcript.json');
  await writeFile(transcript, JSON.stringify({ entries: [doneEntry('Nothing to do.')] }));
  const logs: string[] = [];
  const statusDir = process.env.CCOS_API_STATUS_LOG_DIR;
  const host = new Host(
    parseHostConfig(
      {
        data_dir: dataDir,
        log_level: 'info',
        gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
        agents: { llm: { kind: 'replay', path: transcript }, ...agents },
      },
      statusDir === undefined ? {} : { CCOS_API_STATUS_LOG_DIR: statusDir },
    ),
    {
      logDestination: new Writable({
        write(chunk: Buffer, _enc, done) {
          logs.push(chunk.toString('utf8'));
          done();
        },
      }),
    },
  );
  hosts.push({ host, dataDir });
  const started = await host.start();
  const token = (await readFile(started.adminTokenFile, 'utf8')).trim();
  return { started, dataDir, logs, request: apiRequester(started.gateway.url, token) };
}

async function health(booted: Booted): Promise<AgentIsolationStatus> {
  const res = await fetch(`${booted.started.gateway.url}/v1/health`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { agents: AgentIsolationStatus }).agents;
}

/** Waits for the run's first segment to end by following the chain (no sleeping). */
async function settled(booted: Booted, runId: string): Promise<void> {
  const ended = (e: { run_id: string | null; event_type: string }): boolean =>
    e.run_id === runId && e.event_type === 'segment.ended';
  let resolveEnded = (): void => undefined;
  const seen = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  // Subscribe first, then look at what is already there: nothing falls in between.
  const sub = booted.started.chain.subscribe((entries) => {
    if (entries.some(ended)) resolveEnded();
  });
  const page = await booted.started.chain.query({ run_id: runId, after_seq: 0, limit: 1000 });
  if (page.entries.some(ended)) resolveEnded();
  await seen;
  await sub.dispose();
}

function segmentStarts(booted: Booted, runId: string) {
  return booted.started.chain.query({
    run_id: runId,
    event_type: 'segment.started',
    after_seq: 0,
    limit: 100,
  });
}

async function createRun(booted: Booted): Promise<Run> {
  const res = await booted.request('POST', '/v1/runs', { goal: 'say hello' });
  expect(res.status).toBe(201);
  return res.body as Run;
}

describe('without a jail the host refuses agent workers unless a person opted in', () => {
  const missing = '/nonexistent/ccos-test/bwrap';

  it('refuses: no supervisor, the run waits in pending, health and the log say why and how to fix it', async () => {
    const booted = await boot({ bwrap: missing });
    const agents = await health(booted);
    expect(agents).toEqual({
      status: 'refused',
      isolation: 'none',
      reason: `bubblewrap is not installed (no ${missing} program found)`,
      fix: expect.stringContaining('install bubblewrap (apt-get install bubblewrap') as string,
    });
    expect(agents.fix).toContain('--unsafe-agents');
    expect(booted.started.supervisor).toBeNull();
    const run = await createRun(booted);
    expect(run.state).toBe('pending');
    expect(booted.started.supervisor).toBeNull();
    const refusal = booted.logs.find((l) => l.includes('agent workers are refused'));
    expect(refusal).toBeDefined();
    expect(JSON.parse(refusal ?? '{}')).toMatchObject({
      level: 50,
      reason: agents.reason,
      fix: agents.fix,
    });
  });

  it('with --unsafe-agents (agents.allow_unjailed) workers run, and health, every segment.started entry and runs show say unsafe', async () => {
    const booted = await boot({ bwrap: missing, allow_unjailed: true });
    const agents = await health(booted);
    expect(agents).toMatchObject({
      status: 'unsafe',
      isolation: 'node_permission_model',
      reason: `bubblewrap is not installed (no ${missing} program found)`,
    });
    expect(booted.logs.some((l) => l.includes('agent workers run WITHOUT a jail'))).toBe(true);
    const run = await createRun(booted);
    await settled(booted, run.id);
    const page = await segmentStarts(booted, run.id);
    expect(page.entries.length).toBeGreaterThan(0);
    for (const entry of page.entries) {
      expect(entry.data).toMatchObject({ isolation: 'node_permission_model', unsafe: true });
    }
    const show = await runCli(['--data-dir', booted.dataDir, 'runs', 'show', run.id]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(
      /workers {2}UNSAFE: 1 of 1 segment\(s\) ran without a jail \(node_permission_model\)/,
    );
    const chain = await runCli(['--data-dir', booted.dataDir, 'runs', 'chain', run.id]);
    expect(chain.stdout).toContain('started UNSAFE, without a jail (node_permission_model)');
  });
});

describeWithJail('where the jail works, health and every trace say bubblewrap', () => {
  it('jailed: health, the log, segment.started and runs show', async () => {
    const booted = await boot({});
    expect(await health(booted)).toEqual({
      status: 'jailed',
      isolation: 'bubblewrap',
      reason: null,
      fix: null,
    });
    expect(booted.logs.some((l) => l.includes('agent workers run jailed (bubblewrap)'))).toBe(true);
    const run = await createRun(booted);
    await settled(booted, run.id);
    const page = await segmentStarts(booted, run.id);
    for (const entry of page.entries) {
      expect(entry.data).toMatchObject({ isolation: 'bubblewrap', unsafe: false });
    }
    const show = await runCli(['--data-dir', booted.dataDir, 'runs', 'show', run.id]);
    expect(show.stdout).toContain('workers  bubblewrap, 1 segment(s)');
  });
});
