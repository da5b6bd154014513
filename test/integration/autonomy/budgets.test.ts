import { afterEach, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { BudgetKind, Run } from '../../../contracts/runs.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import {
  ECHO,
  RUN_TIMEOUT_MS,
  callEntry,
  pack,
  startAutonomyHost,
  type AutonomyHost,
  type Transcript,
} from './helpers/autonomy-host.ts';
import {
  SLOW_WAIT,
  startSlowServer,
  writeSlowSkill,
  type SlowServer,
} from './helpers/slow-skill.ts';

const ASK = pack('ask', { budget_on_exceed: 'approval' });
/** Tokens each replayed answer reports. */
const TOKENS_PER_CALL = 1_000;

/** A model that calls `tool` forever: only a budget can end the run. */
function forever(tool: string, args: Record<string, unknown> = {}): Transcript {
  return {
    on_exhausted: 'loop_last',
    entries: [
      callEntry('again', tool, args, {
        usage: { input_tokens: TOKENS_PER_CALL - 10, output_tokens: 10 },
      }),
    ],
  };
}

type Case = {
  kind: Exclude<BudgetKind, 'retries'>;
  /** The tool the endless model calls; the slow one spends wall-clock time. */
  slow: boolean;
  budget: () => Record<string, unknown>;
  /** The limit a run stops at, as `budget.exceeded` reports it. */
  used: (run: Run) => number;
  limit: (run: Run) => number;
  /** How far past the limit one step may take usage. */
  oneStep: number;
};

const CASES: Case[] = [
  {
    kind: 'steps',
    slow: false,
    budget: () => ({ max_steps: 8 }),
    used: (r) => r.usage.steps,
    limit: (r) => r.budget.max_steps,
    oneStep: 1,
  },
  {
    kind: 'tokens',
    slow: false,
    // The last calls find less left than a prompt (the tool list alone is a few thousand
    // tokens) plus one default answer's cap (4096): the answer is capped at what is left
    // rather than refused, so the budget is used up to its end.
    budget: () => ({ max_tokens: 12_000, max_steps: 1_000 }),
    used: (r) => r.usage.tokens,
    limit: (r) => r.budget.max_tokens,
    oneStep: TOKENS_PER_CALL,
  },
  {
    kind: 'wall_clock',
    slow: true,
    budget: () => ({ max_wall_clock_ms: 1_500, max_steps: 1_000 }),
    used: (r) => r.usage.wall_clock_ms,
    limit: (r) => r.budget.max_wall_clock_ms,
    // One slow step (200 ms) plus the worker's start and the kill at the end of the segment.
    oneStep: 1_500,
  },
];

describe('budgets: every kind ends an endless run', () => {
  let host: AutonomyHost | undefined;
  let slow: SlowServer | undefined;
  let cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    await slow?.close();
    slow = undefined;
    for (const c of cleanups) await c();
    cleanups = [];
  });

  async function hostFor(transcript: Transcript, withSlow: boolean): Promise<AutonomyHost> {
    host = await startAutonomyHost({ transcript, packs: [ASK], allowLoopbackHttp: withSlow });
    if (withSlow) {
      slow = await startSlowServer();
      slow.delayMs = 200;
      const skill = await writeSlowSkill(slow.origin);
      cleanups.push(skill.cleanup);
      await host.installSkill(skill.dir);
    }
    return host;
  }

  function exceeded(chain: readonly ChainEntry[]): ChainEntry[] {
    return chain.filter((e) => e.event_type === 'budget.exceeded');
  }

  for (const c of CASES) {
    it(
      `hard_stop: ${c.kind} fails the run with budget_exceeded:${c.kind}, overshooting by at most one step`,
      async () => {
        const h = await hostFor(
          forever(c.slow ? SLOW_WAIT : ECHO, c.slow ? {} : { text: 'x' }),
          c.slow,
        );
        const created = await h.createRun({ goal: `spend ${c.kind}`, budget: c.budget() });
        const run = await h.settle(created.id);
        expect(run.state).toBe('failed');
        expect(run.state_reason).toBe(`budget_exceeded:${c.kind}`);
        expect(c.used(run)).toBeLessThanOrEqual(c.limit(run) + c.oneStep);
        // The run got somewhere before its budget stopped it: the budget was usable.
        expect(run.usage.steps).toBeGreaterThan(1);
        expect(run.usage.retries).toBe(0);
        const chain = await h.runChain(run.id);
        const [entry, ...more] = exceeded(chain);
        expect(more).toEqual([]);
        expect(entry?.rule_id).toBe(`budget.${c.kind}`);
        expect(entry?.data).toMatchObject({ kind: c.kind, decision: 'hard_stop' });
        if (c.kind === 'steps' || c.kind === 'tokens') {
          const warnings = chain
            .filter((e) => e.event_type === 'budget.warning' && e.data.kind === c.kind)
            .map((e) => e.data.percent);
          expect(warnings).toEqual([50, 80]);
        }
        expect(run.budget).toEqual(created.budget);
      },
      RUN_TIMEOUT_MS,
    );

    it(
      `approval: ${c.kind} pauses for a budget approval; approving grants an extension and the run goes further on an unchanged budget`,
      async () => {
        const h = await hostFor(
          forever(c.slow ? SLOW_WAIT : ECHO, c.slow ? {} : { text: 'x' }),
          c.slow,
        );
        const created = await h.createRun({
          goal: `spend ${c.kind}`,
          budget: c.budget(),
          policy_pack: 'ask',
        });
        const budgetText = async (): Promise<string> =>
          (
            await h.started.store.db
              .selectFrom('runs')
              .select('budget')
              .where('id', '=', created.id)
              .executeTakeFirstOrThrow()
          ).budget;
        const originalBudget = await budgetText();

        const paused = await h.waitForState(created.id, ['paused_approval']);
        const view = await h.getRun(paused.id);
        const [approval] = view.pending_approvals;
        expect(approval).toMatchObject({ kind: 'budget', state: 'pending' });
        const scope = /^(\w+):\+(\d+)$/.exec((approval as Approval).scope);
        expect(scope?.[1]).toBe(c.kind);
        const usedBefore = c.used(paused);

        const decided = await h.request('POST', `/v1/approvals/${(approval as Approval).id}`, {
          decision: 'approve',
          reason: 'worth it',
        });
        expect(decided.status).toBe(200);
        const grants = await h.started.store.db
          .selectFrom('budget_grants')
          .selectAll()
          .where('run_id', '=', created.id)
          .execute();
        expect(grants).toEqual([
          expect.objectContaining({
            kind: c.kind,
            amount: Number(scope?.[2]),
            approval_id: (approval as Approval).id,
          }),
        ]);
        const granted = await h.runChain(created.id, 'budget.granted');
        expect(granted.map((e) => e.data)).toEqual([
          { approval_id: (approval as Approval).id, kind: c.kind, amount: Number(scope?.[2]) },
        ]);

        // It resumes, spends the extension and asks again. Usage is read once the segment
        // that asked has ended: its active time is charged then, and on a busy machine the
        // pause can come before that commit.
        const asked = await h.waitForEntry(
          (e) =>
            e.run_id === created.id &&
            e.event_type === 'approval.request' &&
            e.data.approval_id !== (approval as Approval).id,
        );
        await h.waitForEntry(
          (e) => e.run_id === created.id && e.event_type === 'segment.ended' && e.seq > asked.seq,
        );
        const again = await h.waitForState(created.id, ['paused_approval']);
        expect(c.used(again)).toBeGreaterThan(usedBefore);
        expect(c.used(again)).toBeLessThanOrEqual(c.limit(again) + Number(scope?.[2]) + c.oneStep);
        expect(again.budget).toEqual(created.budget);
        expect(await budgetText()).toBe(originalBudget);

        const cancelled = await h.request('POST', `/v1/runs/${created.id}/cancel`, {});
        expect(cancelled.status).toBe(200);
        await h.settle(created.id);
      },
      RUN_TIMEOUT_MS,
    );
  }

  it(
    'deadline: a passed deadline fails the run even under an approval pack',
    async () => {
      const h = await hostFor(forever(SLOW_WAIT), true);
      const deadline = new Date(Date.now() + 2_000).toISOString();
      const created = await h.createRun({
        goal: 'work until the deadline',
        budget: { deadline, max_steps: 1_000 },
        policy_pack: 'ask',
      });
      const run = await h.settle(created.id);
      expect(run.state).toBe('failed');
      expect(run.state_reason).toBe('budget_exceeded:deadline');
      expect(run.usage.steps).toBeGreaterThan(1);
      const [entry] = exceeded(await h.runChain(run.id));
      expect(entry?.data).toMatchObject({ kind: 'deadline', decision: 'hard_stop' });
      // The last step started before the deadline.
      expect(Date.parse(run.updated_at)).toBeGreaterThanOrEqual(Date.parse(deadline));
    },
    RUN_TIMEOUT_MS,
  );
});

describe('budgets: no configuration allows an unbounded run', () => {
  let host: AutonomyHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it('fills missing limits from the pack and refuses limits above the ceilings with 400', async () => {
    host = await startAutonomyHost({ transcript: forever(ECHO, { text: 'x' }) });
    const defaults = await host.createRun({ goal: 'no budget given' });
    expect(defaults.budget).toEqual(DEFAULT_POLICY_PACK.default_budget);
    const partial = await host.createRun({ goal: 'some budget', budget: { max_steps: 3 } });
    expect(partial.budget).toEqual({ ...DEFAULT_POLICY_PACK.default_budget, max_steps: 3 });

    for (const budget of [
      { max_steps: 10_001 },
      { max_tokens: 10_000_001 },
      { max_wall_clock_ms: 7 * 24 * 60 * 60 * 1000 + 1 },
      { max_retries: 21 },
      { max_steps: 0 },
      { max_steps: null },
      { max_steps: Number.MAX_SAFE_INTEGER },
    ]) {
      const res = await host.request('POST', '/v1/runs', { goal: 'unbounded?', budget });
      expect(res.status, JSON.stringify(budget)).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    }
    await host.request('POST', `/v1/runs/${defaults.id}/cancel`, {});
    await host.request('POST', `/v1/runs/${partial.id}/cancel`, {});
  });
});
