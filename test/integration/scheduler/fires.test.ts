import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { startSchedulerHost, type SchedulerHost } from './helpers/scheduler-host.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Issue 21 acceptance: fires, catch-up, overlap and jitter, on a real store with a manual clock. */
describe('scheduler fires', () => {
  let h: SchedulerHost | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it(
    'an every-minute schedule claims exactly 1,440 fire rows over a simulated day',
    { timeout: 300_000 },
    async () => {
      h = await startSchedulerHost({ startIso: '2026-06-01T00:00:00.000Z' });
      const schedule = await h.create({
        trigger: { kind: 'cron', expression: '* * * * *', timezone: 'UTC' },
        target: {
          kind: 'start',
          template: { goal: 'minute report', budget: { max_tokens: 1000 } },
        },
        overlap: 'allow',
        caps: { runs_per_day: 2000, max_concurrent: 2000, tokens_per_day: 10_000_000 },
      });
      await h.advance(DAY);
      const fires = await h.fires(schedule.id);
      expect(fires).toHaveLength(1440);
      // One row per minute of the day, no instant twice, every one started its own run.
      const instants = fires.map((f) => f.instant);
      expect(new Set(instants).size).toBe(1440);
      expect(instants[0]).toBe('2026-06-01T00:01:00.000Z');
      expect(instants.at(-1)).toBe('2026-06-02T00:00:00.000Z');
      expect(fires.every((f) => f.outcome === 'started')).toBe(true);
      expect(new Set(fires.map((f) => f.run_id)).size).toBe(1440);
      // Each fire is on time to the millisecond and has exactly one chain entry.
      expect(fires.every((f) => f.claimed_at === f.due_at)).toBe(true);
      const fired = (await h.entries('schedule.fired')).filter(
        (e) => e.data.schedule_id === schedule.id,
      );
      expect(fired.map((e) => e.data.instant)).toEqual(instants);
      expect((await h.started.chain.verify()).ok).toBe(true);
    },
  );

  it('runs_per_day refuses fires past the cap, each refusal recorded with its reason', async () => {
    h = await startSchedulerHost();
    const schedule = await h.create({
      trigger: { kind: 'every', every_ms: MINUTE },
      target: { kind: 'start', template: { goal: 'too eager', budget: { max_tokens: 1000 } } },
      overlap: 'allow',
      caps: { max_concurrent: 1000, runs_per_day: 10 },
    });
    await h.advance(30 * MINUTE);
    const fires = await h.fires(schedule.id);
    expect(fires).toHaveLength(30);
    expect(fires.filter((f) => f.outcome === 'started')).toHaveLength(10);
    const refused = fires.filter((f) => f.outcome === 'refused');
    expect(refused).toHaveLength(20);
    expect(refused[0]?.reason).toMatch(/^cap_runs_per_day: 10 runs started in the last 24 h/);
  });

  it('tokens_per_day cuts each new run’s token budget to what is left and then refuses', async () => {
    h = await startSchedulerHost();
    const schedule = await h.create({
      trigger: { kind: 'every', every_ms: MINUTE },
      target: { kind: 'start', template: { goal: 'tokens', budget: { max_tokens: 4000 } } },
      overlap: 'allow',
      caps: { max_concurrent: 100, tokens_per_day: 10_000 },
    });
    await h.advance(4 * MINUTE);
    const fires = await h.fires(schedule.id);
    expect(fires.map((f) => f.outcome)).toEqual(['started', 'started', 'started', 'refused']);
    const budgets = await Promise.all(
      fires.slice(0, 3).map(async (f) => (await h?.started.runs.get(f.run_id ?? ''))?.budget),
    );
    // Runs not ended hold their whole budget: 4000 + 4000 + the 2000 left.
    expect(budgets.map((b) => b?.max_tokens)).toEqual([4000, 4000, 2000]);
    expect(fires[3]?.reason).toMatch(/^cap_tokens_per_day:/);
  });

  it('overlap skip, buffer_one and allow with a slow run', async () => {
    h = await startSchedulerHost();
    const make = (overlap: 'skip' | 'buffer_one' | 'allow') =>
      h?.create({
        trigger: { kind: 'every', every_ms: MINUTE },
        target: { kind: 'start', template: { goal: `slow ${overlap}` } },
        overlap,
        caps: { max_concurrent: 10 },
      });
    const skip = await make('skip');
    const buffer = await make('buffer_one');
    const allow = await make('allow');
    if (skip === undefined || buffer === undefined || allow === undefined) throw new Error('setup');
    // Three fires while the first run of each (nobody works on it) is still pending.
    await h.advance(3 * MINUTE);
    const outcomes = async (id: string) => (await h?.fires(id))?.map((f) => f.outcome);
    expect(await outcomes(skip.id)).toEqual(['started', 'skipped', 'skipped']);
    expect(await outcomes(buffer.id)).toEqual(['started', 'buffered', 'skipped']);
    expect(await outcomes(allow.id)).toEqual(['started', 'started', 'started']);
    const skipFires = await h.fires(skip.id);
    expect(skipFires[1]?.reason).toMatch(
      /^overlap_skip: run run_\w+ of this schedule is still pending/,
    );
    const bufferFires = await h.fires(buffer.id);
    expect(bufferFires[2]?.reason).toMatch(/^buffer_full:/);

    // The slow run ends: the buffered fire starts a run at once, without waiting for the next instant.
    const first = bufferFires[0]?.run_id ?? '';
    await h.started.runs.cancel(first, { actor: 'admin' });
    await h.started.scheduler.idle();
    const after = await h.fires(buffer.id);
    expect(after[1]?.outcome).toBe('started');
    expect(after[1]?.run_id).not.toBe(first);
    expect(after[1]?.settled_at).not.toBeNull();
    const delivered = (await h.entries('schedule.fired')).filter(
      (e) => e.data.schedule_id === buffer.id && e.data.from_buffer === true,
    );
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.data.outcome).toBe('started');
  });

  it('a host stopped for three hours fires once with latest and never with none, each missed instant recorded', async () => {
    h = await startSchedulerHost({ startIso: '2026-06-01T08:00:00.000Z' });
    const make = (catchUp: 'none' | 'latest' | 'all', window = HOUR) =>
      h?.create({
        trigger: { kind: 'cron', expression: '*/10 * * * *', timezone: 'Europe/Berlin' },
        target: {
          kind: 'start',
          template: { goal: `report ${catchUp}`, budget: { max_tokens: 1000 } },
        },
        overlap: 'allow',
        catch_up: catchUp,
        catch_up_window_ms: window,
        caps: { max_concurrent: 100 },
      });
    const latest = await make('latest', 4 * HOUR);
    const none = await make('none');
    const all = await make('all', 4 * HOUR);
    if (latest === undefined || none === undefined || all === undefined) throw new Error('setup');
    await h.advance(25 * MINUTE); // 08:10 and 08:20 fire on time
    await h.restart(3 * HOUR); // down from 08:25 to 11:25

    const latestFires = await h.fires(latest.id);
    const noneFires = await h.fires(none.id);
    // 08:30 … 11:20 came due while the host was down: 18 instants.
    const down = latestFires.slice(2);
    expect(down).toHaveLength(18);
    expect(down.filter((f) => f.outcome === 'started').map((f) => f.instant)).toEqual([
      '2026-06-01T11:20:00.000Z',
    ]);
    expect(down.filter((f) => f.outcome === 'missed')).toHaveLength(17);
    expect(down[0]?.reason).toMatch(/^superseded:/);
    expect(noneFires.slice(2).every((f) => f.outcome === 'missed')).toBe(true);
    expect(noneFires.slice(2)).toHaveLength(18);
    expect(noneFires[2]?.reason).toMatch(/^catch_up_none:/);
    // `all` within a 4 h window: every instant runs (overlap allows it).
    expect((await h.fires(all.id)).slice(2).every((f) => f.outcome === 'started')).toBe(true);
    // Every missed instant has its own chain entry naming it.
    const missed = (await h.entries('schedule.missed')).filter(
      (e) => e.data.schedule_id === none.id,
    );
    expect(missed.map((e) => e.data.instant)).toEqual(noneFires.slice(2).map((f) => f.instant));

    // After the catch-up, the schedules carry on normally.
    await h.advance(10 * MINUTE);
    expect((await h.fires(none.id)).at(-1)).toMatchObject({
      instant: '2026-06-01T11:30:00.000Z',
      outcome: 'started',
    });
  });

  it('a missed fire outside a short catch-up window is recorded missed, not run', async () => {
    h = await startSchedulerHost({ startIso: '2026-06-01T08:00:00.000Z' });
    const schedule = await h.create({
      trigger: { kind: 'every', every_ms: HOUR },
      target: { kind: 'start', template: { goal: 'hourly' } },
      catch_up: 'latest',
      catch_up_window_ms: 5 * MINUTE,
    });
    await h.restart(90 * MINUTE); // its 09:00 fire is 30 min late at 09:30
    const fires = await h.fires(schedule.id);
    expect(fires).toHaveLength(1);
    expect(fires[0]).toMatchObject({ instant: '2026-06-01T09:00:00.000Z', outcome: 'missed' });
    expect(fires[0]?.reason).toMatch(/^outside_window:/);
  });

  it('jitter is stable across restarts and spreads schedules that share an instant', async () => {
    const dir = await makeTempDir('ccos-jitter-');
    try {
      h = await startSchedulerHost({ dataDir: dir });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const s = await h.create({
          trigger: { kind: 'cron', expression: '0 * * * *' },
          target: { kind: 'start', template: { goal: `jittered ${i}` } },
          jitter_ms: 10 * MINUTE,
        });
        ids.push(s.id);
      }
      const before = await Promise.all(
        ids.map(async (id) => (await h?.started.schedules.get(id))?.next_fires),
      );
      await h.restart(0);
      const after = await Promise.all(
        ids.map(async (id) => (await h?.started.schedules.get(id))?.next_fires),
      );
      expect(after).toEqual(before);
      // The same hour, five different delays within [0, 10 min].
      const delays = before.map(
        (f) => Date.parse(f?.[0]?.due_at ?? '') - Date.parse(f?.[0]?.instant ?? ''),
      );
      expect(new Set(delays).size).toBe(5);
      for (const d of delays) expect(d).toBeGreaterThanOrEqual(0);
      for (const d of delays) expect(d).toBeLessThanOrEqual(10 * MINUTE);
      // A fire happens at its jittered time, not at the instant.
      await h.advance(HOUR + 10 * MINUTE);
      for (const [i, id] of ids.entries()) {
        const [fire] = await h.fires(id);
        expect(fire?.due_at).toBe(before[i]?.[0]?.due_at);
        expect(fire?.claimed_at).toBe(fire?.due_at);
      }
    } finally {
      await h?.stop();
      h = undefined;
      await removeTempDir(dir);
    }
  });

  it('a clock jump forward is caught up per policy, and one backward never fires an instant twice', async () => {
    h = await startSchedulerHost({ startIso: '2026-06-01T08:00:00.000Z' });
    const schedule = await h.create({
      trigger: { kind: 'every', every_ms: 10 * MINUTE },
      target: { kind: 'start', template: { goal: 'jumpy', budget: { max_tokens: 1000 } } },
      overlap: 'allow',
      catch_up: 'latest',
      caps: { max_concurrent: 100 },
    });
    await h.advance(10 * MINUTE);
    await h.jump(2 * HOUR); // the laptop slept
    let fires = await h.fires(schedule.id);
    expect(fires.filter((f) => f.outcome === 'started').map((f) => f.instant)).toEqual([
      '2026-06-01T08:10:00.000Z',
      '2026-06-01T10:10:00.000Z',
    ]);
    expect(fires.filter((f) => f.outcome === 'missed')).toHaveLength(11);
    const jumped = (await h.entries('schedule.fired')).at(-1);
    expect(jumped?.data.clock_jump_ms).toBeGreaterThan(HOUR);

    h.clock.advance(-HOUR); // the clock is set back an hour: 09:10 again
    await h.jump(0);
    await h.advance(30 * MINUTE);
    fires = await h.fires(schedule.id);
    expect(new Set(fires.map((f) => f.instant)).size).toBe(fires.length);
    expect(fires.at(-1)?.instant).toBe('2026-06-01T10:10:00.000Z');
    await h.advance(40 * MINUTE); // 10:20 is reached again
    expect((await h.fires(schedule.id)).at(-1)?.instant).toBe('2026-06-01T10:20:00.000Z');
  });

  it('ten schedules due at one instant fire in one transaction of at most nine statements per fire', async () => {
    h = await startSchedulerHost({ startIso: '2026-06-01T00:00:00.000Z' });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const s = await h.create({
        trigger: { kind: 'at', at: '2026-06-01T00:01:00.000Z' },
        target: { kind: 'start', template: { goal: `burst ${i}`, budget: { max_tokens: 1000 } } },
      });
      ids.push(s.id);
    }
    const before = h.started.store.statementCount();
    const committed = h.started.chain.commits;
    await h.advance(2 * MINUTE);
    // Claim, cap check, session, run, goals, settle and the schedule's end per fire; the
    // pack version once and the batch's chain entries in one statement (docs/scheduler.md).
    expect((h.started.store.statementCount() - before) / ids.length).toBeLessThanOrEqual(9);
    expect(h.started.chain.commits - committed).toBe(1);
    const runs = new Map<string, { session_id: string; policy_pack_version: string | null }>();
    for (const id of ids) {
      const [fire] = await h.fires(id);
      expect(fire).toMatchObject({ outcome: 'started' });
      const run = await h.started.runs.get(String(fire?.run_id));
      runs.set(run.id, run);
    }
    // The entries written at the batch's end carry their run's envelope.
    const fired = (await h.entries('schedule.fired')).filter((e) =>
      ids.includes(String(e.data.schedule_id)),
    );
    expect(fired).toHaveLength(10);
    for (const e of fired) {
      const run = runs.get(String(e.run_id));
      expect(e.session_id).toBe(run?.session_id);
      expect(e.policy_pack_version).toBe(run?.policy_pack_version);
    }
    expect((await h.started.chain.verify()).ok).toBe(true);
  });

  it('an at schedule fires once and ends; a manual trigger fires now under the same policies', async () => {
    h = await startSchedulerHost({ startIso: '2026-06-01T08:00:00.000Z' });
    await expect(
      h.create({
        trigger: { kind: 'at', at: '2026-06-01T09:00:00+02:00' },
        target: { kind: 'start', template: { goal: 'in the past' } },
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      details: { fields: [{ path: 'trigger.at' }] },
    });
    const once = await h.create({
      trigger: { kind: 'at', at: '2026-06-01T11:00:00+02:00' },
      target: { kind: 'start', template: { goal: 'once' } },
    });
    // Stored in UTC, so instants compare as text and read the same everywhere.
    expect(once.next_fire_at).toBe('2026-06-01T09:00:00.000Z');
    await h.advance(2 * HOUR);
    expect((await h.fires(once.id)).map((f) => f.outcome)).toEqual(['started']);
    const ended = (await h.started.schedules.get(once.id)).schedule;
    expect(ended).toMatchObject({ state: 'ended', next_fire_at: null });
    expect(ended.state_reason).toMatch(/^done:/);
    await expect(h.started.schedules.trigger(once.id, { actor: 'admin' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });

    const manual = await h.create({
      trigger: { kind: 'cron', expression: '0 0 1 1 *' },
      target: { kind: 'start', template: { goal: 'by hand' } },
    });
    const first = await h.started.schedules.trigger(manual.id, { actor: 'admin' });
    expect(first).toMatchObject({ source: 'manual', outcome: 'started' });
    h.clock.advance(1);
    const second = await h.started.schedules.trigger(manual.id, { actor: 'admin' });
    expect(second).toMatchObject({ source: 'manual', outcome: 'skipped' });
    expect(second.reason).toMatch(/^overlap_skip:/);
  });
});
