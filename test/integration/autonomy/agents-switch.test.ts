import { afterEach, describe, expect, it } from 'vitest';
import type { AgentsStatus } from '../../../contracts/agents.ts';
import type { ChainEntry } from '../../../contracts/chain.ts';
import {
  ECHO,
  RUN_TIMEOUT_MS,
  callEntry,
  doneEntry,
  pack,
  startAutonomyHost,
  type AutonomyHost,
  type Transcript,
  hostCli,
} from './helpers/autonomy-host.ts';

/** An agent that never stops echoing: only a person (or its budget) ends it. */
const FOREVER: Transcript = {
  on_exhausted: 'loop_last',
  entries: [callEntry('c1', ECHO, { text: 'again' })],
};
const SHORT = pack('short', { segment_max_steps: 4 });
const BIG = { max_steps: 5000, max_tokens: 5_000_000 };

describe('the host-wide kill switch and caps', () => {
  let host: AutonomyHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  const start = async (transcript: Transcript) => {
    host = await startAutonomyHost({ transcript, packs: [SHORT] });
    const h = host;
    return { h, ccos: hostCli(h) };
  };
  const segmentOf =
    (runId: string, after = 0) =>
    (e: ChainEntry) =>
      e.run_id === runId && e.event_type === 'segment.started' && e.seq > after;

  it(
    '`agents pause` stops a running agent at its next step and holds every run in pending with the reason; `resume` lets them go on',
    async () => {
      const { h, ccos } = await start(FOREVER);
      const first = await h.createRun({ goal: 'Echo forever.', policy_pack: 'short', budget: BIG });
      await h.waitForEntry((e) => e.run_id === first.id && e.event_type === 'skill.execute');

      const paused = await ccos('agents', 'pause', '--reason', 'runaway agent');
      expect(paused.code, paused.stderr).toBe(0);
      expect(paused.stdout).toMatch(/^agents {4}PAUSED by admin at \S+ \(runaway agent\)$/m);
      const pausedAt = await h.waitForEntry((e) => e.rule_id === 'host.agents.pause');
      const held = await h.waitForState(first.id, ['pending']);
      expect(held.state_reason).toMatch(
        /^agents_paused: admin paused all agents at \S+ \(runaway agent\); `ccos agents resume`/,
      );
      expect(held.waiting_for).toBe('agents_resume');
      // Stopped because it was told to: no retry spent.
      expect(held.usage.retries).toBe(0);
      const second = await h.createRun({ goal: 'Echo too.', policy_pack: 'short', budget: BIG });
      expect(second.state_reason).toMatch(/^agents_paused: /);
      const status = (await h.request('GET', '/v1/agents')).body as AgentsStatus;
      expect(status).toMatchObject({
        paused: true,
        paused_by: 'admin',
        paused_reason: 'runaway agent',
      });

      const resumed = await ccos('agents', 'resume');
      expect(resumed.code, resumed.stderr).toBe(0);
      const resumedAt = await h.waitForEntry((e) => e.rule_id === 'host.agents.resume');
      // Both go on — and nothing started between the pause and the resume.
      await h.waitForEntry(segmentOf(first.id, resumedAt.seq));
      await h.waitForEntry(segmentOf(second.id, resumedAt.seq));
      const between = (await h.runChain(first.id)).filter(
        (e) => e.event_type === 'segment.started' && e.seq > pausedAt.seq && e.seq < resumedAt.seq,
      );
      expect(between).toEqual([]);
      const secondStarts = await h.runChain(second.id, 'segment.started');
      expect(secondStarts.every((e) => e.seq > resumedAt.seq)).toBe(true);
      for (const id of [first.id, second.id]) await h.request('POST', `/v1/runs/${id}/cancel`, {});
      await h.settle(first.id);
      await h.settle(second.id);
    },
    RUN_TIMEOUT_MS * 2,
  );

  it(
    '`agents limits --max-concurrent-runs 1` never lets two segments overlap, and the waiting run says why',
    async () => {
      const { h, ccos } = await start(FOREVER);
      const set = await ccos('agents', 'limits', '--max-concurrent-runs', '1');
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toContain('max_concurrent_runs: 1');
      const a = await h.createRun({ goal: 'Echo a.', policy_pack: 'short', budget: BIG });
      const b = await h.createRun({ goal: 'Echo b.', policy_pack: 'short', budget: BIG });
      const started = await h.waitForEntry(
        (e) => e.event_type === 'segment.started' && (e.run_id === a.id || e.run_id === b.id),
      );
      const other = started.run_id === a.id ? b.id : a.id;
      const waiting = (await h.getRun(other)).run;
      if (waiting.state === 'pending')
        expect(waiting.state_reason).toMatch(/^waiting for a free slot: 1 of 1 runs are running/);
      // Each gets segments in turn.
      await h.waitForEntry((e) => e.event_type === 'segment.started' && e.run_id === other);
      for (const id of [a.id, b.id]) await h.request('POST', `/v1/runs/${id}/cancel`, {});
      await h.settle(a.id);
      await h.settle(b.id);
      const chain = [...(await h.runChain(a.id)), ...(await h.runChain(b.id))].sort(
        (x, y) => x.seq - y.seq,
      );
      let open = 0;
      let most = 0;
      for (const e of chain) {
        if (e.event_type === 'segment.started') open += 1;
        if (e.event_type === 'segment.ended') open -= 1;
        most = Math.max(most, open);
      }
      expect(most).toBe(1);
    },
    RUN_TIMEOUT_MS * 2,
  );

  it(
    '`--max-tokens-per-day` holds runs in pending once the day’s tokens are spent; raising it lets them finish',
    async () => {
      const { h, ccos } = await start({
        entries: [callEntry('c1', ECHO, { text: 'hi' }), doneEntry('Echoed.')],
      });
      expect((await ccos('agents', 'limits', '--max-tokens-per-day', '1')).code).toBe(0);
      const run = await h.createRun({ goal: 'Echo once.', policy_pack: 'short' });
      await h.waitForEntry((e) => e.run_id === run.id && e.event_type === 'segment.ended');
      const held = (await h.getRun(run.id)).run;
      expect(held.state).toBe('pending');
      expect(held.state_reason).toMatch(/^tokens_per_day: the host used \d+ of its 1 tokens today/);
      expect(held.waiting_for).toBe('tokens_per_day');
      expect(held.usage.retries).toBe(0);
      expect(await h.runChain(run.id, 'llm.call')).toHaveLength(1);

      const lifted = await ccos('agents', 'limits', '--max-tokens-per-day', 'none');
      expect(lifted.code, lifted.stderr).toBe(0);
      expect((await h.settle(run.id)).state).toBe('done');
      const status = (await h.request('GET', '/v1/agents')).body as AgentsStatus;
      expect(status.tokens_today).toBeGreaterThan(1);
      expect(status.max_tokens_per_day).toBeNull();
    },
    RUN_TIMEOUT_MS,
  );
});
