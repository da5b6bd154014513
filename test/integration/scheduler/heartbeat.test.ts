import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../../contracts/runs.ts';
import type { Schedule, ScheduleDetail } from '../../../contracts/schedules.ts';
import { manualWakeTimer } from '../../support/manual-wake-timer.ts';
import { manualClock } from '../../support/test-store.ts';
import {
  ECHO,
  callEntry,
  doneEntry,
  startAutonomyHost,
  type AutonomyHost,
} from '../autonomy/helpers/autonomy-host.ts';

const WAIT = 'ccos__resume_later';
const HOUR = 3_600_000;

/** Done once the echo skill has succeeded three times: a predicate over recorded steps. */
const THREE_BEATS = {
  kind: 'json_logic',
  rule: {
    '>=': [
      {
        reduce: [
          { filter: [{ var: 'steps' }, { '==': [{ var: 'outcome' }, 'ok'] }] },
          { '+': [{ var: 'accumulator' }, 1] },
          0,
        ],
      },
      3,
    ],
  },
} as const;

/**
 * Issue 21 acceptance: a heartbeat run pauses between beats and is resumed by schedules —
 * first by a follow-up it asked for, then by a `resume` schedule a person set up — and each
 * resumed segment continues from its checkpoint, not from the top. The replay transcript
 * checks that: each answer after a wait expects the wait's result as the last message, so a
 * worker that started over would get LLM_REPLAY_MISMATCH and the run would fail.
 */
describe('a heartbeat run resumed by schedules', () => {
  let host: AutonomyHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it('continues from its checkpoint at each fire, spends one budget across fires, and ends when its predicate holds', async () => {
    const clock = manualClock('2026-06-01T08:00:00.000Z');
    const timer = manualWakeTimer();
    host = await startAutonomyHost({
      clock,
      schedulerTimer: timer,
      transcript: {
        entries: [
          callEntry('b1', ECHO, { text: 'beat 1' }, { expect: { tools_include: [ECHO, WAIT] } }),
          callEntry('w1', WAIT, { after_seconds: 3600, reason: 'next heartbeat' }),
          callEntry('b2', ECHO, { text: 'beat 2' }, { expect: { last_tool_name: WAIT } }),
          // No time: wait for the resume schedule the person created meanwhile.
          callEntry('w2', WAIT, {}),
          callEntry('b3', ECHO, { text: 'beat 3' }, { expect: { last_tool_name: WAIT } }),
          doneEntry('three beats', { expect: { last_tool_name: ECHO } }),
        ],
      },
    });
    const h = host;
    const run = await h.createRun({
      goal: 'post a heartbeat three times',
      completion: THREE_BEATS,
      budget: { max_steps: 20 },
    });
    const pausedAfter = async (segment: number): Promise<Run> => {
      await h.waitForEntry(
        (e) =>
          e.run_id === run.id && e.event_type === 'segment.ended' && e.data.segment === segment,
      );
      return (await h.getRun(run.id)).run;
    };

    // Beat 1, then the agent asks to be resumed in an hour.
    let paused = await pausedAfter(0);
    expect(paused.state).toBe('paused_schedule');
    expect(paused.waiting_for).toBe('2026-06-01T09:00:00.000Z');
    expect(paused.state_reason).toBe('resumes at 2026-06-01T09:00:00.000Z: next heartbeat');
    const followUps = (await h.request('GET', '/v1/schedules')).body as { schedules: Schedule[] };
    const followUp = followUps.schedules.find((s) => s.owner_run_id === run.id);
    expect(followUp).toMatchObject({
      trigger: { kind: 'at', at: '2026-06-01T09:00:00.000Z' },
      target: { kind: 'resume', run_id: run.id },
    });
    const stepsAfterFirst = paused.usage.steps;

    // A person adds a heartbeat every four hours that resumes the run.
    const heartbeat = await h.request('POST', '/v1/schedules', {
      trigger: { kind: 'every', every_ms: 4 * HOUR },
      target: { kind: 'resume', run_id: run.id },
    });
    expect(heartbeat.status, heartbeat.text).toBe(201);
    const heartbeatId = (heartbeat.body as Schedule).id;

    // An hour later the follow-up fires: beat 2, then the agent waits for the heartbeat.
    clock.advance(HOUR);
    await h.started.scheduler.runDue();
    paused = await pausedAfter(1);
    expect(paused.state).toBe('paused_schedule');
    expect(paused.waiting_for).toBe(`schedule:${heartbeatId}`);
    expect(paused.usage.steps).toBeGreaterThan(stepsAfterFirst);
    const stepsAfterSecond = paused.usage.steps;
    const ended = (
      (await h.request('GET', `/v1/schedules/${followUp?.id ?? ''}`)).body as ScheduleDetail
    ).schedule;
    expect(ended.state).toBe('ended');

    // Three hours later (4 h after it was made) the heartbeat fires: beat 3, and the run is done.
    clock.advance(3 * HOUR);
    await h.started.scheduler.runDue();
    const done = await h.settle(run.id);
    expect(done.state).toBe('done');
    // One budget across every fire: steps only ever grew, from one segment to the next.
    expect(done.usage.steps).toBeGreaterThan(stepsAfterSecond);
    expect(done.usage.steps).toBeLessThanOrEqual(done.budget.max_steps);

    const chain = await h.runChain(run.id);
    const fired = chain.filter((e) => e.event_type === 'schedule.fired');
    expect(fired.map((e) => [e.data.schedule_id, e.data.outcome])).toEqual([
      [followUp?.id, 'resumed'],
      [heartbeatId, 'resumed'],
    ]);
    const resumes = chain.filter(
      (e) => e.event_type === 'run.transition' && e.data.trigger === 'schedule_fire',
    );
    expect(resumes).toHaveLength(2);
    // Six answers for six LLM calls: nothing was replayed from the top.
    expect(chain.filter((e) => e.event_type === 'llm.call')).toHaveLength(6);
    expect(chain.filter((e) => e.event_type === 'segment.started')).toHaveLength(3);
    // The run is done: the heartbeat that belonged to it ends with it.
    await h.started.scheduler.idle();
    const after = (await h.request('GET', `/v1/schedules/${heartbeatId}`)).body as ScheduleDetail;
    expect(after.schedule.state).toBe('ended');
    expect(after.schedule.state_reason).toMatch(/ended/);
    expect((await h.started.chain.verify()).ok).toBe(true);
  });

  it('a resume fire for a run whose budget has nothing left is recorded as skipped with the budget reason', async () => {
    const clock = manualClock('2026-06-01T08:00:00.000Z');
    host = await startAutonomyHost({
      clock,
      schedulerTimer: manualWakeTimer(),
      transcript: {
        entries: [
          callEntry('b1', ECHO, { text: 'beat 1' }),
          callEntry('w1', WAIT, { after_seconds: 60 }),
          doneEntry('never reached'),
        ],
      },
    });
    const h = host;
    // Three steps: the LLM call, the echo, and the LLM call that asks to wait.
    const run = await h.createRun({ goal: 'beat until broke', budget: { max_steps: 3 } });
    await h.waitForEntry(
      (e) => e.run_id === run.id && e.event_type === 'segment.ended' && e.data.segment === 0,
    );
    expect((await h.getRun(run.id)).run).toMatchObject({
      state: 'paused_schedule',
      usage: { steps: 3 },
    });
    clock.advance(60_000);
    const report = await h.started.scheduler.runDue();
    expect(report.fires).toHaveLength(1);
    expect(report.fires[0]?.outcome).toBe('skipped');
    expect(report.fires[0]?.reason).toMatch(
      /^budget_exhausted: the run's steps budget has nothing left \(3 of 3\)/,
    );
    // Not resumed: it still waits, with a reason a person can read.
    expect((await h.getRun(run.id)).run.state).toBe('paused_schedule');
  });
});
