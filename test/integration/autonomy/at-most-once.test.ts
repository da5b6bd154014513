import { afterEach, describe, expect, it } from 'vitest';
import {
  ECHO,
  callEntry,
  doneEntry,
  pack,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';
import { RecordingSpawner } from './helpers/recording-spawner.ts';
import {
  SLOW_WAIT,
  startSlowServer,
  writeSlowSkill,
  type SlowServer,
} from './helpers/slow-skill.ts';

const SMALL = pack('small', { segment_max_steps: 2, segment_max_ms: 2_000 });
/** Worker start-ups and a kill, with room for a loaded machine. */
const TIMEOUT_MS = 90_000;
const POLL_MS = 50;

/**
 * The worker sends the LLM's call id with every tool call, and the host runs a call with a
 * given id at most once per run (faults.test.ts covers a release before the re-issue and a
 * killed host; this file the re-issue that arrives while the first run is still going).
 */
describe('tool calls across worker segments run at most once', () => {
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

  async function withSlowSkill(
    entries: Parameters<typeof startAutonomyHost>[0]['transcript']['entries'],
  ): Promise<{ host: AutonomyHost; slow: SlowServer; spawner: RecordingSpawner }> {
    spawner = new RecordingSpawner();
    slow = await startSlowServer();
    host = await startAutonomyHost({
      packs: [SMALL],
      spawner,
      allowLoopbackHttp: true,
      transcript: { entries },
    });
    const skill = await writeSlowSkill(slow.origin);
    cleanup = skill.cleanup;
    await host.installSkill(skill.dir);
    return { host, slow, spawner };
  }

  it(
    'a SIGKILLed worker’s call still running when the next worker re-issues it: one request, the retried worker gets its outcome',
    async () => {
      const h = await withSlowSkill([
        callEntry('c1', SLOW_WAIT, {}),
        doneEntry('Waited.', {
          expect: { last_tool_name: SLOW_WAIT, last_content_includes: '"status":200' },
        }),
      ]);
      h.slow.hold();
      const inFlight = h.slow.nextHit();
      const created = await h.host.createRun({
        goal: 'Wait for the slow server.',
        policy_pack: 'small',
        completion: { kind: 'capability_succeeded', capability_id: 'slow' },
      });
      await inFlight;
      const stepsBefore = (await h.host.getRun(created.id)).run.usage.steps;
      h.spawner.workers.at(-1)?.worker.kill('SIGKILL');
      // The next worker's first step is the re-issued call: once it is charged, the call
      // is waiting on the first run of it, which is still held by the server.
      while ((await h.host.getRun(created.id)).run.usage.steps === stepsBefore) {
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      await new Promise((r) => setTimeout(r, 4 * POLL_MS));
      expect(h.slow.hits).toBe(1);
      h.slow.release();

      const run = await h.host.settle(created.id, TIMEOUT_MS);
      expect(run.state).toBe('done');
      expect(run.usage.retries).toBe(1);
      expect(h.slow.hits).toBe(1);
      const chain = await h.host.runChain(run.id);
      const executes = chain.filter((e) => e.event_type === 'skill.execute');
      expect(executes.map((e) => e.data.outcome)).toEqual(['ok']);
      const replayed = chain.filter(
        (e) => e.event_type === 'policy.decision' && e.rule_id === 'call.replayed',
      );
      expect(replayed.map((e) => e.data)).toMatchObject([
        { from: 'still_running', outcome: 'ok', call_id: 'c1', tool: SLOW_WAIT },
      ]);
      expect(replayed[0]?.step_id).toBe(executes[0]?.step_id);
    },
    TIMEOUT_MS,
  );

  it(
    'an agent that calls the same tool with the same params twice, under two call ids, runs it twice',
    async () => {
      const h = await withSlowSkill([
        callEntry('c1', SLOW_WAIT, {}),
        callEntry('c2', SLOW_WAIT, {}, { expect: { last_tool_name: SLOW_WAIT } }),
        callEntry('c3', ECHO, { text: 'twice' }),
        doneEntry('Waited twice.'),
      ]);
      const created = await h.host.createRun({
        goal: 'Wait for the slow server twice.',
        policy_pack: 'small',
      });
      const run = await h.host.settle(created.id, TIMEOUT_MS);
      expect(run.state).toBe('done');
      expect(h.slow.hits).toBe(2);
      const chain = await h.host.runChain(run.id);
      expect(
        chain.filter((e) => e.event_type === 'policy.decision' && e.rule_id === 'call.replayed'),
      ).toEqual([]);
      const waits = chain.filter(
        (e) => e.event_type === 'skill.execute' && e.data.tool === SLOW_WAIT,
      );
      expect(waits.map((e) => e.data.call_id)).toEqual(['c1', 'c2']);
      expect(new Set(waits.map((e) => e.step_id)).size).toBe(2);
    },
    TIMEOUT_MS,
  );
});
