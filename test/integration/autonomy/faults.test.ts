import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Run } from '../../../contracts/runs.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import {
  ECHO,
  ECHO_NOTES_DIR,
  RUN_TIMEOUT_MS,
  TERMINAL,
  callEntry,
  doneEntry,
  pack,
  startAutonomyHost,
  type AutonomyHost,
  type Transcript,
} from './helpers/autonomy-host.ts';
import { startChildHost, type ChildHost } from './helpers/child-host.ts';
import {
  RecordingSpawner,
  SLOW_START_DELAY_MS,
  type WorkerKind,
} from './helpers/recording-spawner.ts';
import {
  SLOW_WAIT,
  startSlowServer,
  writeSlowSkill,
  type SlowServer,
} from './helpers/slow-skill.ts';

/** Two steps a segment; a hung worker is killed 2 s + 5 s grace after its segment began. */
const SMALL = pack('small', { segment_max_steps: 2, segment_max_ms: 2_000 });
/** Hang timer (2 s) + grace (5 s) + worker start-ups, with room for a loaded machine. */
const FAULT_TIMEOUT_MS = 90_000;

/** Segment 0 echoes `alpha`; the answer after it expects `alpha` in the conversation. */
const RESUMING: Transcript = {
  entries: [
    callEntry('c1', ECHO, { text: 'alpha' }, { expect: { last_role: 'user' } }),
    doneEntry('Echoed.', { expect: { last_tool_name: ECHO, last_content_includes: 'alpha' } }),
  ],
};

function segmentEnds(chain: readonly ChainEntry[]): ChainEntry[] {
  return chain.filter((e) => e.event_type === 'segment.ended');
}

describe('worker faults cost one retry and the run resumes from its checkpoint', () => {
  let host: AutonomyHost | undefined;
  let spawner: RecordingSpawner | undefined;
  let slow: SlowServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await host?.stop();
    await spawner?.killAll();
    await slow?.close();
    await cleanup?.();
    host = undefined;
    spawner = undefined;
    slow = undefined;
    cleanup = undefined;
  });

  it(
    'SIGKILL mid-segment: the next worker re-issues the interrupted tool call and gets its recorded outcome; it runs once',
    async () => {
      spawner = new RecordingSpawner();
      slow = await startSlowServer();
      host = await startAutonomyHost({
        packs: [SMALL],
        spawner,
        allowLoopbackHttp: true,
        transcript: {
          entries: [
            callEntry('c1', ECHO, { text: 'alpha' }),
            callEntry('c2', SLOW_WAIT, {}, { expect: { last_content_includes: 'alpha' } }),
            // Only a conversation restored with the slow call answered gets here, and the
            // answer is the outcome of the one request the call made.
            doneEntry('Waited.', {
              expect: { last_tool_name: SLOW_WAIT, last_content_includes: '"status":200' },
            }),
          ],
        },
      });
      const skill = await writeSlowSkill(slow.origin);
      cleanup = skill.cleanup;
      await host.installSkill(skill.dir);
      slow.hold();
      const inFlight = slow.nextHit();
      const created = await host.createRun({
        goal: 'Echo alpha, then wait.',
        policy_pack: 'small',
        completion: { kind: 'capability_succeeded', capability_id: 'slow' },
      });
      // Segment 1's worker is inside its tool call: kill it there.
      await inFlight;
      const victim = spawner.workers.at(-1);
      expect(spawner.workers).toHaveLength(2);
      victim?.worker.kill('SIGKILL');
      await host.waitForEntry(
        (e) => e.run_id === created.id && e.event_type === 'segment.ended' && e.data.segment === 1,
      );
      slow.release();

      const run = await host.settle(created.id);
      expect(run.state).toBe('done');
      expect(run.usage.retries).toBe(1);
      const chain = await host.runChain(run.id);
      const ends = segmentEnds(chain);
      expect(ends.map((e) => e.data.failure)).toEqual([null, 'worker exited with SIGKILL', null]);
      const retry = chain.find(
        (e) => e.event_type === 'run.transition' && e.data.trigger === 'recovery',
      );
      expect(retry?.data.reason).toMatch(/SIGKILL.*resumes from its last checkpoint/);
      // Segment 2 started from the checkpoint holding the unanswered slow call and issued it
      // again; the host answered it from segment 1's run of it (or waited for that run):
      // one request reached the server, and segment 2 recorded no skill step of its own.
      expect(slow.hits).toBe(1);
      const steps = await host.request('GET', `/v1/runs/${run.id}/steps`);
      const bySegment = (segment: number): string[] =>
        (steps.body as { steps: { segment: number; kind: string }[] }).steps
          .filter((s) => s.segment === segment)
          .map((s) => s.kind);
      expect(bySegment(1)).toEqual(['llm', 'skill']);
      expect(bySegment(2)).toEqual(['llm']);
      const replayed = chain.filter(
        (e) => e.event_type === 'policy.decision' && e.rule_id === 'call.replayed',
      );
      expect(replayed).toHaveLength(1);
      expect(replayed[0]?.data).toMatchObject({ tool: SLOW_WAIT, call_id: 'c2', outcome: 'ok' });
    },
    FAULT_TIMEOUT_MS,
  );

  const faults: { kind: WorkerKind; failure: RegExp }[] = [
    { kind: 'hang', failure: /^segment time exceeded$/ },
    { kind: 'garbage', failure: /^protocol error: / },
  ];
  for (const fault of faults) {
    it(
      `a worker that ${fault.kind === 'hang' ? 'hangs' : 'writes garbage to stdout'} is killed, costs one retry, and the next worker resumes`,
      async () => {
        spawner = new RecordingSpawner((i) => (i === 1 ? fault.kind : 'real'));
        host = await startAutonomyHost({ packs: [SMALL], spawner, transcript: RESUMING });
        const created = await host.createRun({
          goal: 'Echo alpha.',
          policy_pack: 'small',
          completion: { kind: 'capability_succeeded', capability_id: 'echo-notes' },
        });
        const run = await host.settle(created.id, FAULT_TIMEOUT_MS);
        expect(run.state).toBe('done');
        expect(run.usage.retries).toBe(1);
        expect(spawner.workers.map((w) => w.kind)).toEqual(['real', fault.kind, 'real']);
        const ends = segmentEnds(await host.runChain(run.id));
        expect(ends).toHaveLength(3);
        expect(ends[0]?.data.failure).toBeNull();
        expect(ends[1]?.data).toMatchObject({ steps: 0, signal: 'SIGKILL' });
        expect(String(ends[1]?.data.failure)).toMatch(fault.failure);
        expect(ends[2]?.data.failure).toBeNull();
      },
      FAULT_TIMEOUT_MS,
    );
  }

  it(
    'a worker slow to start is not taken for a hang: start-up is not segment time',
    async () => {
      // Its first message comes after the segment's limit and grace have passed (as on a
      // busy machine); timed from spawn it would be killed and charged a retry.
      expect(SLOW_START_DELAY_MS).toBeGreaterThan(SMALL.segment_max_ms + 5_000);
      spawner = new RecordingSpawner(() => 'slow_start');
      host = await startAutonomyHost({ packs: [SMALL], spawner, transcript: RESUMING });
      const created = await host.createRun({
        goal: 'Echo alpha.',
        policy_pack: 'small',
        completion: { kind: 'capability_succeeded', capability_id: 'echo-notes' },
      });
      const run = await host.settle(created.id, FAULT_TIMEOUT_MS);
      expect(run.state).toBe('done');
      expect(run.usage.retries).toBe(0);
      // Two segments of two steps each, both workers late, neither charged a retry.
      expect(spawner.workers.map((w) => w.kind)).toEqual(['slow_start', 'slow_start']);
      expect(segmentEnds(await host.runChain(run.id)).map((e) => e.data.failure)).toEqual([
        null,
        null,
      ]);
    },
    FAULT_TIMEOUT_MS,
  );

  it(
    'a worker silent on its channel past the pack’s limit is killed as hung, long before its segment ends',
    async () => {
      const quiet = pack('quiet', {
        segment_max_ms: 30 * 60 * 1000,
        worker_silence_timeout_ms: 500,
      });
      spawner = new RecordingSpawner(() => 'hang');
      host = await startAutonomyHost({ packs: [quiet], spawner, transcript: RESUMING });
      const created = await host.createRun({
        goal: 'Echo alpha.',
        policy_pack: 'quiet',
        budget: { max_retries: 0 },
      });
      const run = await host.settle(created.id, FAULT_TIMEOUT_MS);
      expect(run.state).toBe('failed');
      // The reason names the last failure, so a person need not read the chain for it.
      expect(run.state_reason).toBe(
        'retries_exhausted: worker hung: silent on its channel for 0.5 s',
      );
      const ends = segmentEnds(await host.runChain(run.id));
      expect(ends.map((e) => e.data.failure)).toEqual([
        'worker hung: silent on its channel for 0.5 s',
      ]);
    },
    FAULT_TIMEOUT_MS,
  );

  it(
    'fails the run with retries_exhausted once its retries are spent',
    async () => {
      spawner = new RecordingSpawner((i) => (i === 0 ? 'real' : 'garbage'));
      host = await startAutonomyHost({ packs: [SMALL], spawner, transcript: RESUMING });
      const created = await host.createRun({
        goal: 'Echo alpha.',
        policy_pack: 'small',
        budget: { max_retries: 2 },
      });
      const run = await host.settle(created.id);
      expect(run.state).toBe('failed');
      expect(run.state_reason).toMatch(/^retries_exhausted: protocol error: /);
      // The third failure is not retried, so it is not charged: never above the limit.
      expect(run.usage.retries).toBe(2);
      const ends = segmentEnds(await host.runChain(run.id));
      expect(ends.map((e) => e.data.failure === null)).toEqual([true, false, false, false]);
      expect(spawner.workers).toHaveLength(4);
    },
    RUN_TIMEOUT_MS,
  );
});

describe('the host itself is killed mid-segment', () => {
  const hosts: ChildHost[] = [];
  const orphans: number[] = [];
  let dataDir: string | undefined;
  let slow: SlowServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    for (const h of hosts) await h.stop('SIGKILL');
    hosts.length = 0;
    for (const pid of orphans.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await slow?.close();
    await cleanup?.();
    if (dataDir !== undefined) await removeTempDir(dataDir);
    slow = undefined;
    cleanup = undefined;
    dataDir = undefined;
  });

  /** Polls the API of a host in another process until the run asks for an operation approval, and approves it. */
  async function approvePendingOperation(host: ChildHost, runId: string): Promise<void> {
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    for (;;) {
      const res = await host.request('GET', `/v1/approvals?state=pending&run_id=${runId}`);
      const asked = (res.body as { approvals: Approval[] }).approvals.find(
        (a) => a.kind === 'operation',
      );
      if (asked !== undefined) {
        const decided = await host.request('POST', `/v1/approvals/${asked.id}`, {
          decision: 'approve',
        });
        expect(decided.status, decided.text).toBe(200);
        return;
      }
      if (Date.now() > deadline) throw new Error(`no operation approval: ${host.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Polls the API of a host in another process until the run is terminal. */
  async function terminal(host: ChildHost, runId: string): Promise<Run> {
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    for (;;) {
      const res = await host.request('GET', `/v1/runs/${runId}`);
      const run = (res.body as { run: Run }).run;
      if (TERMINAL.includes(run.state)) return run;
      if (Date.now() > deadline) throw new Error(`run still ${run.state}: ${host.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it(
    'SIGKILL of the host while a tool call runs: after a restart the call is not run again (CALL_OUTCOME_UNKNOWN), the run resumes (one retry) and ends done, and the chain verifies',
    async () => {
      dataDir = await makeTempDir('ccos-host-kill-');
      slow = await startSlowServer();
      const skill = await writeSlowSkill(slow.origin);
      cleanup = skill.cleanup;
      const transcriptFile = path.join(dataDir, 'transcript.json');
      await writeFile(
        transcriptFile,
        JSON.stringify({
          entries: [
            callEntry('c1', SLOW_WAIT, {}),
            // The restarted host cannot know whether the request had its effect: the agent
            // is told so instead of the call running a second time.
            doneEntry('Checked.', { expect: { last_content_includes: 'CALL_OUTCOME_UNKNOWN' } }),
          ],
        } satisfies Transcript),
      );
      const llmSettingsFile = path.join(dataDir, 'llm.json');
      await writeFile(llmSettingsFile, JSON.stringify({ kind: 'replay', path: transcriptFile }));

      const first = await startChildHost({ dataDir, llmSettingsFile });
      hosts.push(first);
      for (const dir of [ECHO_NOTES_DIR, skill.dir]) {
        const res = await first.request('POST', '/v1/skills', { path: dir });
        expect(res.status, res.text).toBe(201);
      }
      slow.hold();
      const inFlight = slow.nextHit();
      const res = await first.request('POST', '/v1/runs', { goal: 'Wait for the slow server.' });
      expect(res.status, res.text).toBe(201);
      const runId = (res.body as Run).id;
      // The default pack asks before an HTTP operation (the pack is the approval floor); once
      // approved, the next worker re-issues the call and it runs.
      await approvePendingOperation(first, runId);
      await inFlight;
      // Mid-segment: the worker waits on its tool call, the run is `running`.
      const during = await first.request('GET', `/v1/runs/${runId}`);
      expect((during.body as { run: Run }).run.state).toBe('running');
      orphans.push(...(await first.workerPids()));
      expect(orphans.length).toBeGreaterThan(0);
      await first.stop('SIGKILL');
      slow.release();

      // A stale lock or gateway.json of the killed host must not block the restart.
      const second = await startChildHost({ dataDir, llmSettingsFile });
      hosts.push(second);
      const run = await terminal(second, runId);
      expect(run.state).toBe('done');
      expect(run.usage.retries).toBe(1);
      const chain = await second.request('GET', `/v1/runs/${runId}/chain?limit=1000`);
      const entries = (chain.body as { entries: ChainEntry[] }).entries;
      const recovered = entries.find(
        (e) => e.event_type === 'run.transition' && e.data.trigger === 'recovery',
      );
      expect(recovered?.data).toMatchObject({ from: 'running', to: 'pending' });
      // At most once: the request the killed host made is the only one.
      expect(slow.hits).toBe(1);
      const unknown = entries.filter(
        (e) => e.event_type === 'policy.decision' && e.rule_id === 'call.outcome_unknown',
      );
      // Once: the resumed worker re-issues c1 from its checkpoint; the restarted host's replay
      // continues after the answer the run already had (its llm.call entries), not from the top.
      expect(unknown.map((e) => e.data.call_id)).toEqual(['c1']);
      const verify = await second.request('GET', '/v1/chain/verify');
      expect(verify.body).toMatchObject({ ok: true });
      await second.stop('SIGTERM');
      expect(second.child.exitCode).toBe(0);
    },
    FAULT_TIMEOUT_MS,
  );
});
