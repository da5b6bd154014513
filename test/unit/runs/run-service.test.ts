import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUDGET_CEILING, createRunInputSchema, type RunState } from '../../../contracts/runs.ts';
import { NO_LLM_PENDING } from '../../../main/host.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { STATES_NEEDING_REASON } from '../../../main/runs/transitions.ts';
import { manualClock, openTestServices, type TestServices } from '../../support/test-store.ts';

const ACTOR = { actor: 'test' };

describe('RunService', () => {
  let services: TestServices;
  beforeEach(async () => {
    const clock = manualClock();
    services = await openTestServices({
      clock: {
        now: () => {
          clock.advance(1);
          return clock.now();
        },
      },
    });
  });
  afterEach(async () => {
    await services.close();
  });

  it('creates a pending run with its goal queue, policy default budget and a run.created entry', async () => {
    const run = await services.runs.create(
      {
        goal: 'main goal',
        budget: { max_steps: 7 },
        completion: { kind: 'capability_succeeded', capability_id: 'cap.x' },
        subgoals: [{ text: 'first' }, { text: 'second', predicate: { kind: 'never' } }],
      },
      ACTOR,
    );
    expect(run).toMatchObject({
      state: 'pending',
      // The test host has no LLM provider: a pending run says that nothing will start it.
      ...NO_LLM_PENDING,
      policy_pack: 'default',
      created_by: 'test',
      budget: { ...DEFAULT_POLICY_PACK.default_budget, max_steps: 7 },
      usage: { steps: 0, tokens: 0, retries: 0 },
    });
    expect(await services.runs.get(run.id)).toEqual(run);
    expect(await services.runs.goals(run.id)).toEqual([
      {
        ordinal: 0,
        text: 'main goal',
        predicate: { kind: 'capability_succeeded', capability_id: 'cap.x' },
        state: 'open',
      },
      { ordinal: 1, text: 'first', predicate: null, state: 'open' },
      { ordinal: 2, text: 'second', predicate: { kind: 'never' }, state: 'open' },
    ]);
    const { entries } = await services.chain.query({ run_id: run.id });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      event_type: 'run.created',
      session_id: run.session_id,
      data: { state: 'pending', budget: run.budget, goals: 3 },
    });
  });

  it('rejects budgets above the ceilings, and unbounded ones, at the schema', () => {
    for (const [key, ceiling] of Object.entries(BUDGET_CEILING)) {
      const over = createRunInputSchema.safeParse({ goal: 'g', budget: { [key]: ceiling + 1 } });
      expect(over.success, key).toBe(false);
      const at = createRunInputSchema.safeParse({ goal: 'g', budget: { [key]: ceiling } });
      expect(at.success, key).toBe(true);
    }
    for (const bad of [Number.POSITIVE_INFINITY, -1, 1.5, null]) {
      expect(
        createRunInputSchema.safeParse({ goal: 'g', budget: { max_steps: bad } }).success,
      ).toBe(false);
    }
    expect(createRunInputSchema.safeParse({ goal: 'g', budget: { max_stepz: 1 } }).success).toBe(
      false,
    );
  });

  it('refuses a budget above a ceiling from an in-process caller too, leaving no row behind', async () => {
    const over = { max_steps: BUDGET_CEILING.max_steps + 1 };
    const creating = services.runs.create({ goal: 'g', budget: over }, ACTOR);
    await expect(creating).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(creating).rejects.toThrow(/max_steps/);
    expect(await services.runs.list()).toEqual([]);
  });

  it('refuses a second active run in a session (SESSION_BUSY) until the first is terminal', async () => {
    const first = await services.runs.create({ goal: 'first' }, ACTOR);
    const entries = (await services.chain.verify()).entries;
    await expect(
      services.runs.create({ goal: 'second', session_id: first.session_id }, ACTOR),
    ).rejects.toMatchObject({ code: 'SESSION_BUSY' });
    expect((await services.chain.verify()).entries).toBe(entries);
    expect(await services.runs.list({ session_id: first.session_id })).toHaveLength(1);

    await services.runs.transition(first.id, 'running', ACTOR);
    await expect(
      services.runs.create({ goal: 'second', session_id: first.session_id }, ACTOR),
    ).rejects.toMatchObject({ code: 'SESSION_BUSY' });
    await services.runs.transition(first.id, 'done', ACTOR);
    const second = await services.runs.create(
      { goal: 'second', session_id: first.session_id },
      ACTOR,
    );
    expect(second).toMatchObject({ session_id: first.session_id, state: 'pending' });
  });

  it('cancel, then a second cancel is ILLEGAL_TRANSITION', async () => {
    const run = await services.runs.create({ goal: 'g' }, ACTOR);
    const cancelled = await services.runs.cancel(run.id, ACTOR);
    expect(cancelled).toMatchObject({ state: 'cancelled', state_reason: 'cancelled by test' });
    await expect(services.runs.cancel(run.id, ACTOR)).rejects.toMatchObject({
      code: 'ILLEGAL_TRANSITION',
    });
    expect(await services.runs.get(run.id)).toEqual(cancelled);
  });

  it('lists newest first and pages with `before`', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await services.runs.create({ goal: `g${i}` }, ACTOR)).id);
    const newestFirst = [...ids].reverse();
    expect((await services.runs.list()).map((r) => r.id)).toEqual(newestFirst);
    const page1 = await services.runs.list({ limit: 2 });
    const page2 = await services.runs.list({ limit: 2, before: page1.at(-1)?.id ?? '' });
    const page3 = await services.runs.list({ limit: 2, before: page2.at(-1)?.id ?? '' });
    expect([...page1, ...page2, ...page3].map((r) => r.id)).toEqual(newestFirst);
    expect(page3).toHaveLength(1);
    await services.runs.transition(ids[1] ?? '', 'running', ACTOR);
    expect((await services.runs.list({ state: 'running' })).map((r) => r.id)).toEqual([ids[1]]);
  });

  it("after every transition the run's state equals the last chain entry's data.to", async () => {
    const run = await services.runs.create({ goal: 'walk' }, ACTOR);
    const walk: RunState[] = [
      'running',
      'paused_approval',
      'pending',
      'running',
      'paused_schedule',
      'pending',
      'running',
      'pending',
      'running',
      'done',
    ];
    for (const to of walk) {
      const reason = STATES_NEEDING_REASON.includes(to) ? `to ${to}` : null;
      await services.runs.transition(run.id, to, { ...ACTOR, reason });
      const { entries } = await services.chain.query({ run_id: run.id, limit: 1000 });
      expect(entries.at(-1)?.data).toMatchObject({ to, reason });
      expect((await services.runs.get(run.id)).state).toBe(to);
    }
    expect(await services.chain.verify()).toMatchObject({ ok: true });
  });
});
