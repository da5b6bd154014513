import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { Grant } from '../../../contracts/grants.ts';
import type { Run } from '../../../contracts/runs.ts';
import type { Clock } from '../../../main/clock.ts';
import { errorOf } from '../gateway/helpers/gateway-host.ts';
import { AGENT, paused, startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';

const POST = 'poster__post';
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** `post` asks every time (`approval: always`); it is pure, so parallel calls share nothing but the grant. */
const skill = (version: string) => ({
  ...manifest('poster', [operation('post', { approval: 'always' })]),
  version,
});
const CODE = `export async function post(input) { return { posted: input }; }`;

/** A clock the test moves: grants expire by the host's clock, never by Date.now. */
function testClock(): Clock & { advance: (ms: number) => void } {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
}

/** Issue 22, standing approvals: grants through the real pipeline, real SQLite, real HTTP. */
describe('standing grants', () => {
  let h: ExecuteTestHost;
  const clock = testClock();

  beforeAll(async () => {
    h = await startExecuteHost({ clock });
    await h.install(skill('1.0.0'), CODE);
  });
  afterAll(async () => {
    await h.stop();
  });

  /** A call the agent makes, asked about; the person approves it with `grant`. */
  async function grantFor(run: Run, grant: Record<string, unknown>): Promise<Grant> {
    const asked = paused(await h.execute(run, POST, { text: 'first' }));
    const res = await h.decide(asked.approval_id, { decision: 'approve', grant });
    if (res.status !== 200) throw new Error(`decide failed: ${res.status} ${res.text}`);
    const { grant: made } = res.body as { grant: Grant };
    // The call asked about runs on the approval itself, as any approval's does.
    const resumed =
      (await h.runState(run.id)) === 'running'
        ? await h.started.runs.get(run.id)
        : await h.resume(run.id);
    expect(await h.execute(resumed, POST, { text: 'first' })).toMatchObject({ status: 'ok' });
    return made;
  }

  /** An MCP client's run: it keeps running while one of its calls waits for a person. */
  async function externalRun(): Promise<Run> {
    const run = await h.started.runs.create(
      { goal: 'post heartbeats' },
      { actor: 'admin', driver: 'external' },
    );
    return h.started.runs.transition(run.id, 'running', { ...AGENT, reason: 'mcp session' });
  }

  it('a grant of N uses lets at most N of many concurrent calls through', async () => {
    const run = await externalRun();
    const grant = await grantFor(run, { scope: 'run', uses: 3 });
    expect(grant).toMatchObject({ scope: 'run', max_uses: 3, uses: 0, state: 'active' });

    const outcomes: ToolCallOutcome[] = await Promise.all(
      Array.from({ length: 12 }, (_, i) => h.execute(run, POST, { text: `beat ${i}` })),
    );
    expect(outcomes.filter((o) => o.status === 'ok')).toHaveLength(3);
    expect(outcomes.filter((o) => o.status === 'paused')).toHaveLength(9);
    expect(await h.started.grants.get(grant.id)).toMatchObject({ uses: 3, state: 'used_up' });
    const used = (await h.chain('grant.used')).filter((e) => e.data.grant_id === grant.id);
    expect(used.map((e) => e.data.use).sort()).toEqual([1, 2, 3]);
  });

  it('lets exactly N later calls through, whatever their arguments, then asks again', async () => {
    const run = await h.runningRun();
    const grant = await grantFor(run, { scope: 'run', uses: 2 });
    const current = await h.started.runs.get(run.id);
    expect(await h.execute(current, POST, { text: 'second' })).toEqual({
      status: 'ok',
      output: { posted: { text: 'second' } },
    });
    expect(await h.execute(current, POST, { text: 'third' })).toMatchObject({ status: 'ok' });
    paused(await h.execute(current, POST, { text: 'fourth' }));
    expect(await h.runState(run.id)).toBe('paused_approval');

    const listed = await h.request('GET', `/v1/grants?run_id=${run.id}`);
    expect(listed.status).toBe(200);
    expect((listed.body as { grants: Grant[] }).grants).toMatchObject([
      { id: grant.id, uses: 2, state: 'used_up', tool: POST, skill_version: '1.0.0' },
    ]);
    const created = (await h.chain('grant.created')).find((e) => e.data.grant_id === grant.id);
    expect(created).toMatchObject({ run_id: run.id, actor: 'admin' });
  });

  it("a run's own grants end with it; the list no longer shows them active", async () => {
    const run = await h.runningRun();
    const grant = await grantFor(run, { scope: 'run' });
    expect((await h.started.grants.list({ state: 'active' })).map((g) => g.id)).toContain(grant.id);
    await h.started.runs.transition(run.id, 'cancelled', { actor: 'admin', reason: 'enough' });
    expect(await h.started.grants.get(grant.id)).toMatchObject({ state: 'expired' });
    expect((await h.started.grants.list({ state: 'active' })).map((g) => g.id)).not.toContain(
      grant.id,
    );
  });

  it('a grant of one run does not cover another run', async () => {
    const run = await h.runningRun();
    await grantFor(run, { scope: 'run' });
    const other = await h.runningRun();
    paused(await h.execute(other, POST, { text: 'elsewhere' }));
  });

  it('a revoked grant stops the next call at once; revoking twice is a conflict', async () => {
    const run = await h.runningRun();
    const grant = await grantFor(run, { scope: 'run' });
    const current = await h.started.runs.get(run.id);
    expect(await h.execute(current, POST, { text: 'before' })).toMatchObject({ status: 'ok' });

    const revoked = await h.request('DELETE', `/v1/grants/${grant.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: grant.id, state: 'revoked', revoked_by: 'admin' });
    paused(await h.execute(current, POST, { text: 'after' }));

    const again = await h.request('DELETE', `/v1/grants/${grant.id}`);
    expect(again.status).toBe(409);
    expect(errorOf(again).code).toBe('CONFLICT');
    const entries = (await h.chain('grant.revoked')).filter((e) => e.data.grant_id === grant.id);
    expect(entries).toHaveLength(1);
  });

  it('expires at its `until` by the host clock, and is never longer than the pack allows', async () => {
    const run = await h.runningRun();
    const until = new Date(clock.now().getTime() + HOUR_MS).toISOString();
    const grant = await grantFor(run, { scope: 'run', until });
    expect(grant.expires_at).toBe(until);
    const current = await h.started.runs.get(run.id);
    expect(await h.execute(current, POST, { text: 'in time' })).toMatchObject({ status: 'ok' });

    clock.advance(HOUR_MS + 1000);
    paused(await h.execute(current, POST, { text: 'too late' }));
    expect(await h.started.grants.get(grant.id)).toMatchObject({ state: 'expired', uses: 1 });

    const capped = await h.runningRun();
    const far = new Date(clock.now().getTime() + 90 * DAY_MS).toISOString();
    const long = await grantFor(capped, { scope: 'run', until: far });
    expect(Date.parse(long.expires_at) - clock.now().getTime()).toBeLessThanOrEqual(30 * DAY_MS);
    expect(Date.parse(long.expires_at) - clock.now().getTime()).toBeGreaterThan(29 * DAY_MS);
  });

  it('a past `until` is refused and the approval stays pending', async () => {
    const run = await h.runningRun();
    const asked = paused(await h.execute(run, POST, { text: 'x' }));
    const res = await h.decide(asked.approval_id, {
      decision: 'approve',
      grant: { scope: 'run', until: new Date(clock.now().getTime() - 1000).toISOString() },
    });
    expect(res.status).toBe(400);
    expect((await h.approval(asked.approval_id)).state).toBe('pending');
  });

  it('a run with no schedule cannot be granted for its schedule', async () => {
    const run = await h.runningRun();
    const asked = paused(await h.execute(run, POST, { text: 'x' }));
    const res = await h.decide(asked.approval_id, {
      decision: 'approve',
      grant: { scope: 'schedule' },
    });
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('INVALID_INPUT');
    // The decision was undone with it: nothing half-made.
    expect((await h.approval(asked.approval_id)).state).toBe('pending');
    expect(await h.started.grants.list({ run_id: run.id })).toEqual([]);
  });

  it('an upgraded skill, or other code under the same version, needs a new approval', async () => {
    const run = await h.runningRun();
    await grantFor(run, { scope: 'run' });
    const current = await h.started.runs.get(run.id);
    expect(await h.execute(current, POST, { text: 'v1' })).toMatchObject({ status: 'ok' });

    await h.install(skill('1.1.0'), CODE);
    paused(await h.execute(current, POST, { text: 'v1.1' }));

    // Same version as a grant made now, other code: the digest differs, so no match either.
    const next = await h.runningRun();
    await grantFor(next, { scope: 'run' });
    await h.install(skill('1.1.0'), `${CODE}\n// changed`);
    paused(await h.execute(await h.started.runs.get(next.id), POST, { text: 'changed' }));
  });

  /** A schedule that starts a run per fire, fired by hand; each run picked up as a worker would. */
  async function scheduleRuns(goal: string): Promise<() => Promise<Run>> {
    const created = await h.request('POST', '/v1/schedules', {
      json: {
        trigger: { kind: 'every', every_ms: DAY_MS },
        target: { kind: 'start', template: { goal } },
        overlap: 'allow',
        caps: { max_concurrent: 10 },
      },
    });
    if (created.status !== 201) throw new Error(`schedule: ${created.status} ${created.text}`);
    const { id } = created.body as { id: string };
    return async () => {
      const fired = await h.request('POST', `/v1/schedules/${id}/trigger`);
      const fire = fired.body as { outcome: string; run_id: string | null };
      if (fire.outcome !== 'started' || fire.run_id === null)
        throw new Error(`fire: ${fired.status} ${fired.text}`);
      return h.resume(fire.run_id);
    };
  }

  it("a schedule's grant covers a later fire's run of that schedule, not another schedule's", async () => {
    const fireHeartbeat = await scheduleRuns('post a heartbeat');
    const fireOther = await scheduleRuns('post something else');
    const first = await fireHeartbeat();
    const grant = await grantFor(first, { scope: 'schedule', uses: 5 });
    expect(grant.scope).toBe('schedule');
    expect(grant.schedule_id).not.toBeNull();

    const second = await fireHeartbeat();
    expect(second.id).not.toBe(first.id);
    expect(await h.execute(second, POST, { text: 'next fire' })).toMatchObject({ status: 'ok' });

    const other = await fireOther();
    paused(await h.execute(other, POST, { text: 'other schedule' }));
    expect(await h.started.grants.get(grant.id)).toMatchObject({ uses: 1 });
  });
});
