import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../../contracts/runs.ts';
import { followUpRequestSchema } from '../../../contracts/schedules.ts';
import { MAX_CHECKPOINT_BYTES } from '../../../main/runs/checkpoint-store.ts';
import { rejectionOf } from '../../support/llm-test-kit.ts';
import { ADMIN, startSchedulerHost, type SchedulerHost } from './helpers/scheduler-host.ts';

const AGENT = 'agent:test';

/**
 * `ccos/schedule.resume` as an untrusted worker might call it: every refusal leaves the run
 * running and creates nothing (checkpoint, pause and schedule commit together or not at all).
 */
describe('agent follow-ups', () => {
  let h: SchedulerHost | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  async function runningRun(host: SchedulerHost, deadline?: string): Promise<Run> {
    const run = await host.started.runs.create(
      { goal: 'wait a while', ...(deadline === undefined ? {} : { budget: { deadline } }) },
      ADMIN,
    );
    return host.started.runs.transition(run.id, 'running', ADMIN);
  }

  async function nothingChanged(host: SchedulerHost, run: Run): Promise<void> {
    expect((await host.started.runs.get(run.id)).state).toBe('running');
    const schedules = await host.started.store.db.selectFrom('schedules').select('id').execute();
    expect(schedules).toEqual([]);
    const checkpoints = await host.started.store.db
      .selectFrom('checkpoints')
      .select('id')
      .where('run_id', '=', run.id)
      .execute();
    expect(checkpoints).toEqual([]);
  }

  it('refuses times out of range, after the deadline, or with nothing to wake the run, changing nothing', async () => {
    h = await startSchedulerHost({ startIso: '2026-06-01T08:00:00.000Z' });
    const run = await runningRun(h, '2026-06-01T10:00:00.000Z');
    const ask = (request: Parameters<SchedulerHost['started']['followUps']['request']>[2]) =>
      rejectionOf(h?.started.followUps.request(run.id, 0, request, AGENT, 3) ?? Promise.resolve());
    for (const request of [
      { at: '2026-06-01T07:00:00.000Z', state: {} }, // the past
      { at: '2026-06-01T08:00:00.500Z', state: {} }, // under a second
      { at: '2026-08-01T08:00:00.000Z', state: {} }, // beyond 30 days
      { after_ms: 3 * 3_600_000, state: {} }, // after the run's deadline
      { state: {} }, // no time, and no schedule resumes this run
      { after_ms: 60_000, state: 'x'.repeat(MAX_CHECKPOINT_BYTES + 1) }, // checkpoint too big
      { until_message: true as const, state: {} }, // no approved channel feeds the session
    ]) {
      const e = await ask(request);
      expect(e, JSON.stringify(request).slice(0, 80)).toMatchObject({ code: 'INVALID_INPUT' });
      await nothingChanged(h, run);
    }
  });

  it('refuses to wait for a message and a time at once', () => {
    expect(
      followUpRequestSchema.safeParse({ until_message: true, after_ms: 60_000, state: {} }).success,
    ).toBe(false);
  });

  it('refuses a run that is not running (a worker of an ended or paused run)', async () => {
    h = await startSchedulerHost();
    const run = await runningRun(h);
    await h.started.runs.cancel(run.id, ADMIN);
    const e = await rejectionOf(
      h.started.followUps.request(run.id, 0, { after_ms: 60_000, state: {} }, AGENT, 3),
    );
    expect(e).toMatchObject({ code: 'SEGMENT_ENDED' });
    expect(await h.started.store.db.selectFrom('schedules').select('id').execute()).toEqual([]);
  });

  it('a new follow-up supersedes the run’s earlier one, and the follow-up ends with its run', async () => {
    h = await startSchedulerHost({ startIso: '2026-06-01T08:00:00.000Z' });
    const run = await runningRun(h);
    const first = await h.started.followUps.request(
      run.id,
      0,
      { after_ms: 3_600_000, state: { n: 1 } },
      AGENT,
      3,
    );
    expect(first.resume_at).toBe('2026-06-01T09:00:00.000Z');
    // A person resumes it by hand before the hour is up; it asks again.
    await h.started.runs.transition(run.id, 'pending', { ...ADMIN, trigger: 'manual' });
    await h.started.runs.transition(run.id, 'running', ADMIN);
    const second = await h.started.followUps.request(
      run.id,
      1,
      { after_ms: 7_200_000, state: { n: 2 } },
      AGENT,
      3,
    );
    const rows = await h.started.store.db
      .selectFrom('schedules')
      .select(['id', 'state', 'state_reason'])
      .orderBy('created_at')
      .execute();
    expect(rows.map((r) => r.state)).toEqual(['ended', 'active']);
    expect(rows[0]?.state_reason).toMatch(/^superseded/);
    expect(rows[1]?.id).toBe(second.schedule_id);
    // The first follow-up's hour passes: it fires nothing, it has ended.
    await h.advance(3_600_000);
    expect(await h.fires(first.schedule_id ?? '')).toEqual([]);
    await h.started.runs.cancel(run.id, ADMIN);
    await h.started.scheduler.idle();
    const [after] = await h.started.store.db
      .selectFrom('schedules')
      .select(['state', 'state_reason'])
      .where('id', '=', second.schedule_id ?? '')
      .execute();
    expect(after?.state).toBe('ended');
    expect(h.started.scheduler.size).toBe(0);
  });
});
