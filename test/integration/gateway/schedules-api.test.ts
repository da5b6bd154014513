import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schedule, ScheduleDetail, ScheduleFire } from '../../../contracts/schedules.ts';
import { manualClock, type ManualClock } from '../../support/test-store.ts';
import {
  errorFields,
  errorOf,
  startGatewayHost,
  type GatewayTestHost,
} from './helpers/gateway-host.ts';
import { runCli } from './helpers/run-cli.ts';
import { openSse } from './helpers/sse-client.ts';

const START = '2026-06-01T06:00:00.000Z';

/** Issue 21: `/v1/schedules` and `ccos schedules`, on a real host over real HTTP. */
describe('schedules API', () => {
  let gw: GatewayTestHost;
  let clock: ManualClock;
  const daily = {
    trigger: { kind: 'cron', expression: '30 8 * * *', timezone: 'Europe/Berlin' },
    target: { kind: 'start', template: { goal: 'morning report', budget: { max_steps: 5 } } },
  };

  beforeAll(async () => {
    clock = manualClock(START);
    gw = await startGatewayHost({ clock });
  });
  afterAll(async () => {
    await gw.stop();
  });

  const create = async (body: unknown): Promise<Schedule> => {
    const res = await gw.request('POST', '/v1/schedules', { json: body });
    expect(res.status, res.text).toBe(201);
    return res.body as Schedule;
  };

  it('creates a schedule with defaults, lists it and shows its next five fires as fixed UTC instants', async () => {
    const schedule = await create(daily);
    expect(schedule).toMatchObject({
      state: 'active',
      overlap: 'skip',
      catch_up: 'latest',
      catch_up_window_ms: 3_600_000,
      jitter_ms: 0,
      caps: { runs_per_day: 48, max_concurrent: 1 },
      next_fire_at: '2026-06-01T06:30:00.000Z',
      created_by: 'admin',
    });
    const list = await gw.request('GET', '/v1/schedules');
    expect(list.status).toBe(200);
    expect((list.body as { schedules: Schedule[] }).schedules.map((s) => s.id)).toContain(
      schedule.id,
    );
    const detail = await gw.request('GET', `/v1/schedules/${schedule.id}`);
    expect(detail.status).toBe(200);
    const { next_fires, recent_fires } = detail.body as ScheduleDetail;
    expect(next_fires.map((f) => f.due_at)).toEqual([
      '2026-06-01T06:30:00.000Z',
      '2026-06-02T06:30:00.000Z',
      '2026-06-03T06:30:00.000Z',
      '2026-06-04T06:30:00.000Z',
      '2026-06-05T06:30:00.000Z',
    ]);
    expect(recent_fires).toEqual([]);
  });

  it('refuses bad input with the field named: a bad cron, an unknown zone, an unknown field, a resume of no run, a past at', async () => {
    const bad = async (body: unknown, field: string) => {
      const res = await gw.request('POST', '/v1/schedules', { json: body });
      expect(res.status, res.text).toBe(400);
      expect(errorFields(res), res.text).toContain(field);
    };
    await bad(
      { ...daily, trigger: { kind: 'cron', expression: '61 * * * *' } },
      'trigger.expression',
    );
    await bad(
      { ...daily, trigger: { kind: 'cron', expression: '0 8 * * *', timezone: 'Mars/Olympus' } },
      'trigger.timezone',
    );
    await bad({ ...daily, surprise: true }, 'surprise');
    await bad({ ...daily, target: { kind: 'resume', run_id: 'run_nope' } }, 'target.run_id');
    await bad({ ...daily, trigger: { kind: 'at', at: '2026-06-01T05:00:00Z' } }, 'trigger.at');
    await bad({ ...daily, trigger: { kind: 'every', every_ms: 10 } }, 'trigger.every_ms');
    await bad({ ...daily, caps: { runs_per_day: 0 } }, 'caps.runs_per_day');
    const type = await gw.request('POST', '/v1/schedules', {
      raw: JSON.stringify(daily),
      headers: { 'content-type': 'text/plain' },
    });
    expect(type.status).toBe(415);
    const method = await gw.request('PUT', '/v1/schedules');
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('GET, POST');
  });

  it('edits, pauses, resumes, triggers and deletes; an ended schedule answers 409', async () => {
    const schedule = await create(daily);
    const patched = await gw.request('PATCH', `/v1/schedules/${schedule.id}`, {
      json: { overlap: 'buffer_one', note: 'weekday mornings', caps: { runs_per_day: 2 } },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({
      overlap: 'buffer_one',
      note: 'weekday mornings',
      caps: { runs_per_day: 2, max_concurrent: 1 },
    });
    expect((await gw.request('PATCH', `/v1/schedules/${schedule.id}`, { json: {} })).status).toBe(
      400,
    );

    const paused = await gw.request('POST', `/v1/schedules/${schedule.id}/pause`, {
      json: { reason: 'holiday' },
    });
    expect(paused.body).toMatchObject({ state: 'paused', state_reason: 'holiday' });
    const resumed = await gw.request('POST', `/v1/schedules/${schedule.id}/resume`);
    expect(resumed.body).toMatchObject({ state: 'active' });

    const fired = await gw.request('POST', `/v1/schedules/${schedule.id}/trigger`);
    expect(fired.status, fired.text).toBe(200);
    const fire = fired.body as ScheduleFire;
    expect(fire).toMatchObject({ source: 'manual', outcome: 'started' });
    const run = await gw.request('GET', `/v1/runs/${fire.run_id ?? ''}`);
    expect(run.body).toMatchObject({ run: { goal: 'morning report', created_by: 'scheduler' } });
    clock.advance(1);
    const again = await gw.request('POST', `/v1/schedules/${schedule.id}/trigger`);
    expect(again.body).toMatchObject({ outcome: 'buffered' });

    const deleted = await gw.request('DELETE', `/v1/schedules/${schedule.id}`);
    expect(deleted.body).toEqual({ schedule_id: schedule.id });
    expect((await gw.request('GET', `/v1/schedules/${schedule.id}`)).status).toBe(404);
    expect((await gw.request('POST', `/v1/schedules/${schedule.id}/trigger`)).status).toBe(404);
    // The buffered fire was settled, not left waiting for a schedule that is gone.
    const [row] = await gw.started.store.db
      .selectFrom('schedule_fires')
      .select(['outcome', 'reason'])
      .where('schedule_id', '=', schedule.id)
      .where('outcome', '!=', 'started')
      .execute();
    expect(row?.outcome).toBe('skipped');
    expect(row?.reason).toMatch(/^schedule_deleted/);

    const once = await create({
      ...daily,
      trigger: { kind: 'at', at: new Date(clock.now().getTime() + 60_000).toISOString() },
    });
    clock.advance(60_000);
    await gw.started.scheduler.runDue();
    const ended = (await gw.request('GET', `/v1/schedules/${once.id}`)).body as ScheduleDetail;
    expect(ended.schedule.state).toBe('ended');
    expect(ended.recent_fires.map((f) => f.outcome)).toEqual(['started']);
    for (const [method, suffix, json] of [
      ['POST', '/trigger', undefined],
      ['POST', '/pause', undefined],
      ['POST', '/resume', undefined],
      ['PATCH', '', { jitter_ms: 10 }],
    ] as const) {
      const res = await gw.request(method, `/v1/schedules/${once.id}${suffix}`, {
        ...(json === undefined ? {} : { json }),
      });
      expect(res.status, `${method} ${suffix}`).toBe(409);
      expect(errorOf(res).code).toBe('CONFLICT');
    }
    for (const [method, suffix] of [
      ['GET', ''],
      ['PATCH', ''],
      ['DELETE', ''],
      ['POST', '/pause'],
      ['POST', '/resume'],
      ['POST', '/trigger'],
    ] as const) {
      const res = await gw.request(method, `/v1/schedules/sch_missing${suffix}`, {
        ...(method === 'PATCH' ? { json: { note: 'x' } } : {}),
      });
      expect(res.status, `${method} ${suffix}`).toBe(404);
    }
  });

  it('is admin only: a connector token gets 403 and an auth.denied entry', async () => {
    const connector = await gw.connector('ci', ['runs:create', 'runs:read']);
    const list = await gw.request('GET', '/v1/schedules', { token: connector.token });
    expect(list.status).toBe(403);
    const create = await gw.request('POST', '/v1/schedules', {
      token: connector.token,
      json: daily,
    });
    expect(create.status).toBe(403);
    const denied = await gw.chain('auth.denied');
    expect(
      denied.some((e) => e.data.path === '/v1/schedules' && e.data.reason === 'admin_only'),
    ).toBe(true);
    expect((await gw.request('GET', '/v1/schedules', { token: null })).status).toBe(401);
  });

  it('streams schedule events on /v1/events', async () => {
    const head = await gw.started.chain.verify();
    const stream = await openSse(`${gw.url}/v1/events`, {
      token: gw.adminToken,
      lastEventId: head.entries,
    });
    try {
      const schedule = await create({
        ...daily,
        trigger: { kind: 'at', at: new Date(clock.now().getTime() + 1000).toISOString() },
      });
      clock.advance(1000);
      await gw.started.scheduler.runDue();
      const events = await stream.collectUntil((e) => e.event === 'schedule.fired', 10_000);
      const types = events.map((e) => e.event);
      expect(types).toContain('schedule.created');
      const fired = JSON.parse(events.at(-1)?.data ?? '{}') as { data: Record<string, unknown> };
      expect(fired.data).toMatchObject({ schedule_id: schedule.id, outcome: 'started' });
    } finally {
      stream.close();
    }
  });

  it('ccos schedules create|list|show|pause|resume|trigger|delete and ccos runs create --every', async () => {
    const ccos = (...args: string[]) => runCli(['--data-dir', gw.dataDir, ...args]);
    const created = await ccos(
      '--json',
      'schedules',
      'create',
      'tidy the inbox',
      '--every',
      '4h',
      '--jitter',
      '1m',
      '--max-steps',
      '7',
    );
    expect(created.code, created.stderr).toBe(0);
    const schedule = JSON.parse(created.stdout) as Schedule;
    expect(schedule).toMatchObject({
      trigger: { kind: 'every', every_ms: 4 * 3_600_000 },
      jitter_ms: 60_000,
      target: { kind: 'start', template: { goal: 'tidy the inbox', budget: { max_steps: 7 } } },
    });
    const list = await ccos('schedules', 'list');
    expect(list.stdout).toContain(schedule.id);
    expect(list.stdout).toContain('every 4h');
    const show = await ccos('schedules', 'show', schedule.id);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('next fires:');
    expect((await ccos('schedules', 'pause', schedule.id)).stdout).toContain('is now paused');
    expect((await ccos('schedules', 'resume', schedule.id)).stdout).toContain('is now active');
    const trigger = await ccos('schedules', 'trigger', schedule.id);
    expect(trigger.stdout).toMatch(/^fired sch_\w+: started run_\w+/);
    expect((await ccos('schedules', 'delete', schedule.id)).stdout).toContain('deleted');

    const shortcut = await ccos(
      '--json',
      'runs',
      'create',
      'heartbeat',
      '--cron',
      '0 */4 * * *',
      '--tz',
      'Europe/Berlin',
    );
    expect(shortcut.code, shortcut.stderr).toBe(0);
    expect(JSON.parse(shortcut.stdout)).toMatchObject({
      trigger: { kind: 'cron', expression: '0 */4 * * *', timezone: 'Europe/Berlin' },
    });
    const every = await ccos('runs', 'create', 'heartbeat', '--every', '4h');
    expect(every.stdout).toMatch(/^created sch_\w+ \(active\): every 4h/);

    const badEvery = await ccos('runs', 'create', 'x', '--every', 'soon');
    expect(badEvery.code).toBe(2);
    expect(badEvery.stderr).toContain('--every takes a duration');
    const both = await ccos('schedules', 'create', 'x', '--every', '1h', '--cron', '* * * * *');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('exactly one of --cron, --every and --at');
    const overlap = await ccos('schedules', 'create', 'x', '--every', '1h', '--overlap', 'queue');
    expect(overlap.code).toBe(2);
    const badCron = await ccos('schedules', 'create', 'x', '--cron', 'every day');
    expect(badCron.code).toBe(2);
    expect(badCron.stderr).toContain('trigger.expression');
  });
});
