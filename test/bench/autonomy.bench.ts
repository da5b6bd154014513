/**
 * Autonomy loop costs (issue 7).
 *
 * 1. Gateway overhead per agent step, LLM excluded: a worker process (the real agent
 *    client over stdio, under the spawner's permission flags) calls `echo-notes__echo`
 *    through `tools/call`; the host answers with the real `RunSegment` (metering the step,
 *    then the execute pipeline). Baseline: the same call made in-process straight into
 *    `pipeline.execute`, measured in the same run, half before and half after.
 * 1b. The peer (issue 18): LangGraph.js's durable step, one graph node per step, checkpointed
 *    by its SQLite saver with `durability: "sync"`, 1,000 steps, in this process just before
 *    and just after the channel's tool calls, when `npm --prefix test/bench/peers ci` has
 *    installed it; both with the driver's default sync (NORMAL in WAL: no fsync per step)
 *    and with `synchronous = full` as the project's store commits.
 * 2. Runs per second through the whole loop: runs created at once through the API, each
 *    a one-step replay (one model answer, then the completion claim), until all are done,
 *    with N segments at a time.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import type { Run } from '../../contracts/runs.ts';
import { BubblewrapSpawner } from '../../main/agent/spawn/bubblewrap-spawner.ts';
import { ChildProcessSpawner } from '../../main/agent/spawn/child-process-spawner.ts';
import { detectJail } from '../../main/agent/spawn/detect-jail.ts';
import type { Spawner } from '../../main/agent/spawn/spawner.ts';
import { WORKER_BUNDLE_FILE, defaultWorkerEntry } from '../../main/agent/spawn/worker-files.ts';
import { DEFAULT_WORKER_POOL_SIZE, parseHostConfig } from '../../main/config.ts';
import { Host } from '../../main/host.ts';
import { makeTempDir, removeTempDir } from '../support/test-store.ts';
import {
  doneEntry,
  ECHO_NOTES_DIR,
  startAutonomyHost,
} from '../integration/autonomy/helpers/autonomy-host.ts';
import { agentChannelCalls } from './agent-channel-calls.ts';
import {
  compared,
  comparedAt,
  mean,
  percentile,
  type BenchResult,
  type BenchRow,
} from './bench-result.ts';
import { loadPeer, measurePeerSteps, PEER_SKIPPED, type PeerSync } from './langgraph-peer.ts';

const ECHO = 'echo-notes__echo';
const WARMUP = 50;
const CALLS = 600;
const LOOP_RUNS = 48;
const CONCURRENCY = [1, 4, 8] as const;
const PEER_STEPS = 1000;
const PEER_SYNC_MODES: readonly PeerSync[] = ['full', 'default'];

export async function run(): Promise<BenchResult> {
  const peer = await openPeer();
  const step = await measureStep(peer.round).finally(peer.close);
  const rows: BenchRow[] = [
    comparedAt('tool call p50', step.channel, step.baseline, 0.5),
    comparedAt('tool call p99', step.channel, step.baseline, 0.99),
    compared('tool call mean', mean(step.channel), mean(step.baseline)),
    {
      metric: 'gateway overhead p50',
      value: percentile(step.channel, 0.5) - percentile(step.baseline, 0.5),
      unit: 'ms',
    },
  ];
  for (const [sync, steps] of peer.steps) {
    const label = sync === 'full' ? 'synchronous=full' : 'driver default sync';
    rows.push(
      comparedAt(`tool call p50 vs LangGraph step p50 (${label})`, step.channel, steps, 0.5),
      compared(`tool call mean vs LangGraph step mean (${label})`, mean(step.channel), mean(steps)),
    );
  }
  // Baseline: the loop before issue 18's levers — the worker as a module tree, started when
  // its segment begins. Then each lever on top, measured right after it so load changes fall
  // on all alike: the one-file worker, its start-up snapshot (the host's default), then the
  // pool at its default size and at `n`.
  const tree = await spawnerFor((entry) => entry.replace(WORKER_BUNDLE_FILE, 'worker-main.js'));
  const oneFile = await spawnerFor((entry) => entry);
  for (const n of CONCURRENCY) {
    const baseline = await runsPerSecond(n, 0, tree);
    const row = (what: string, value: number): BenchRow => ({
      ...compared(`runs/s, ${n} concurrent, ${what} vs module tree, no pool`, value, baseline),
      unit: 'runs/s',
    });
    rows.push(row('one file, no pool', await runsPerSecond(n, 0, oneFile)));
    rows.push(row('snapshot, no pool', await runsPerSecond(n, 0)));
    const pooled = await runsPerSecond(n, DEFAULT_WORKER_POOL_SIZE);
    rows.push(row(`snapshot, pool of ${DEFAULT_WORKER_POOL_SIZE}`, pooled));
    if (n > DEFAULT_WORKER_POOL_SIZE) {
      rows.push(row(`snapshot, pool of ${n}`, await runsPerSecond(n, n)));
    }
  }
  return {
    suite: 'autonomy',
    rows,
    notes: [
      `tool call: ${step.channel.length} calls over the worker channel (child process, stdio, RunSegment metering + pipeline) vs ${step.baseline.length} in-process pipeline.execute calls (baseline), after ${WARMUP} warm-up calls each`,
      peer.note,
      `runs/s: ${LOOP_RUNS} runs created at once through POST /v1/runs, one-step replay, a worker process per segment (pre-started by the pool, or started for its segment), until all are done; baseline: the built worker as its module tree, no pool; 'snapshot': the one file's V8 start-up snapshot, the host's default`,
      `load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')}`,
      `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}, Node ${process.version}, data in ${os.tmpdir()}`,
    ],
  };
}

/** Round trips of one tool call: over a worker's channel, and straight into the pipeline. */
async function measureStep(
  peerRound: () => Promise<void>,
): Promise<{ channel: number[]; baseline: number[] }> {
  // No LLM provider: the supervisor stays idle, and the bench drives one segment by hand.
  const dataDir = await makeTempDir('ccos-bench-step-');
  const host = new Host(
    parseHostConfig(
      {
        data_dir: dataDir,
        log_level: 'silent',
        gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
      },
      {},
    ),
    { logger: pino({ level: 'silent' }) },
  );
  try {
    const s = await host.start();
    await s.skills.install(ECHO_NOTES_DIR, { actor: 'bench' });
    const budget = { max_steps: 10_000, max_tokens: 10_000_000 };
    const newRunning = async (goal: string): Promise<Run> => {
      const created = await s.runs.create({ goal, budget }, { actor: 'bench' });
      return s.runs.transition(created.id, 'running', { actor: 'bench' });
    };

    const direct = await newRunning('baseline');
    let n = 0;
    const inProcess = async (count: number): Promise<number[]> => {
      const samples: number[] = [];
      for (let i = 0; i < count; i++) {
        const start = performance.now();
        const outcome = await s.pipeline.execute({
          run: direct,
          step_id: `stp_bench_${n++}`,
          segment: 0,
          tool: ECHO,
          params: { text: `call ${i}` },
          ctx: { actor: 'bench' },
        });
        samples.push(performance.now() - start);
        if (outcome.status !== 'ok') throw new Error(`baseline call: ${JSON.stringify(outcome)}`);
      }
      return samples;
    };

    const overChannel = async (count: number): Promise<number[]> =>
      agentChannelCalls(s, await newRunning('channel'), ECHO, count);

    await inProcess(WARMUP);
    await overChannel(WARMUP);
    const baseline = await inProcess(CALLS / 2);
    await peerRound();
    const channel = await overChannel(CALLS);
    await peerRound();
    baseline.push(...(await inProcess(CALLS / 2)));
    const verified = await s.chain.verify();
    if (!verified.ok) throw new Error(`chain broken after the bench: ${verified.message}`);
    return {
      channel: channel.sort((a, b) => a - b),
      baseline: baseline.sort((a, b) => a - b),
    };
  } finally {
    await host.stop();
    await removeTempDir(dataDir);
  }
}

/** LangGraph's durable step per sync mode, measured in rounds that the caller places. */
type PeerMeasurement = {
  /** One invoke of PEER_STEPS steps in each sync mode; samples add up across rounds. */
  round: () => Promise<void>;
  steps: Map<PeerSync, number[]>;
  note: string;
  close: () => Promise<void>;
};

async function openPeer(): Promise<PeerMeasurement> {
  const peer = await loadPeer();
  const steps = new Map<PeerSync, number[]>();
  if (peer === undefined) {
    return {
      round: () => Promise.resolve(),
      steps,
      note: PEER_SKIPPED,
      close: () => Promise.resolve(),
    };
  }
  const dir = await makeTempDir('ccos-bench-peer-');
  let rounds = 0;
  const measurement: PeerMeasurement = {
    round: async () => {
      for (const sync of PEER_SYNC_MODES) {
        const samples = await measurePeerSteps(peer, dir, PEER_STEPS, sync);
        steps.set(
          sync,
          [...(steps.get(sync) ?? []), ...samples].sort((a, b) => a - b),
        );
      }
      rounds++;
      measurement.note = `peer: LangGraph.js (test/bench/peers), one node per step, SqliteSaver, durability "sync", ${rounds} × ${PEER_STEPS} steps per sync mode (one round just before the channel calls, one just after), same process, data in the same temp dir`;
    },
    steps,
    note: '',
    close: () => removeTempDir(dir),
  };
  return measurement;
}

/**
 * The spawner a test host would choose (the jail where it works, else the permission model),
 * running the built worker as the script `entryOf(the one-file bundle)` instead of its
 * start-up snapshot.
 */
async function spawnerFor(entryOf: (bundle: string) => string): Promise<Spawner> {
  const entry = entryOf(defaultWorkerEntry());
  const jail = await detectJail({ bwrap: 'bwrap' });
  return jail.ok
    ? new BubblewrapSpawner({ tools: jail.tools, entry })
    : new ChildProcessSpawner({ entry });
}

/**
 * Runs per second, create → done, `concurrency` segments at a time, `poolSize` pre-started
 * workers, through `spawner` (default: the host's own choice).
 */
async function runsPerSecond(
  concurrency: number,
  poolSize: number,
  spawner?: Spawner,
): Promise<number> {
  const h = await startAutonomyHost({
    transcript: { entries: [doneEntry('Done.')] },
    maxConcurrent: concurrency,
    workerPoolSize: poolSize,
    ...(spawner === undefined ? {} : { spawner }),
  });
  const { started } = h;
  try {
    const done = new Set<string>();
    let allDone: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      allDone = resolve;
    });
    const subscription = started.chain.subscribe((entries) => {
      for (const e of entries) {
        if (e.event_type !== 'segment.ended' || e.run_id === null) continue;
        done.add(e.run_id);
      }
      if (done.size >= LOOP_RUNS) allDone();
    });
    const start = performance.now();
    const ids = await Promise.all(
      Array.from({ length: LOOP_RUNS }, async (_, i) => {
        const res = await h.request('POST', '/v1/runs', { goal: `bench run ${i}` });
        if (res.status !== 201) throw new Error(`create: ${res.status} ${res.text}`);
        return (res.body as Run).id;
      }),
    );
    await finished;
    const elapsed = performance.now() - start;
    await subscription.dispose();
    for (const id of ids) {
      const runState = (await started.runs.get(id)).state;
      if (runState !== 'done') throw new Error(`run ${id} ended ${runState}`);
    }
    return LOOP_RUNS / (elapsed / 1000);
  } finally {
    await h.stop();
  }
}
