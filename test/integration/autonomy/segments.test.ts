import { afterEach, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import {
  ECHO,
  RUN_TIMEOUT_MS,
  callEntry,
  doneEntry,
  pack,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';

const SMALL = pack('small', { segment_max_steps: 2 });
const ECHO_SUCCEEDED = { kind: 'capability_succeeded', capability_id: 'echo-notes' } as const;

/** Entries of each segment, by the index in its `segment.started` entry. */
function bySegment(entries: readonly ChainEntry[]): Map<number, ChainEntry[]> {
  const segments = new Map<number, ChainEntry[]>();
  let current: ChainEntry[] | undefined;
  for (const e of entries) {
    if (e.event_type === 'segment.started') {
      current = [];
      segments.set(e.data.segment as number, current);
    }
    current?.push(e);
    if (e.event_type === 'segment.ended') current = undefined;
  }
  return segments;
}

describe('a goal progresses on its own over bounded segments', () => {
  let host: AutonomyHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it(
    'completes over four segments, each starting from the checkpoint the previous one wrote',
    async () => {
      // Each answer after the first expects the previous segment's tool result in the
      // conversation: a worker that did not start from the checkpoint gets
      // LLM_REPLAY_MISMATCH, fails, and the run never reaches `done`.
      host = await startAutonomyHost({
        packs: [SMALL],
        transcript: {
          entries: [
            callEntry(
              'c1',
              ECHO,
              { text: 'alpha-1' },
              {
                expect: { last_role: 'user', tools_include: [ECHO] },
              },
            ),
            callEntry(
              'c2',
              ECHO,
              { text: 'beta-2' },
              {
                expect: { last_tool_name: ECHO, last_content_includes: 'alpha-1' },
              },
            ),
            callEntry(
              'c3',
              ECHO,
              { text: 'gamma-3' },
              {
                expect: { last_tool_name: ECHO, last_content_includes: 'beta-2' },
              },
            ),
            doneEntry('All three echoed.', {
              expect: { last_tool_name: ECHO, last_content_includes: 'gamma-3' },
            }),
          ],
        },
      });
      const knownBefore = host.started.redactor.knownValueCount;
      // Created through the API only: no chat, no message, nothing else starts it.
      const created = await host.createRun({
        goal: 'Echo alpha, beta and gamma.',
        policy_pack: 'small',
        completion: ECHO_SUCCEEDED,
      });
      const run = await host.settle(created.id);
      expect(run.state_reason).toBe('All three echoed.');
      expect(run.state).toBe('done');
      expect(run.usage).toMatchObject({ steps: 7, retries: 0 });

      const chain = await host.runChain(run.id);
      const segments = bySegment(chain);
      expect([...segments.keys()]).toEqual([0, 1, 2, 3]);
      for (const [index, entries] of segments) {
        const types = entries.map((e) => e.event_type);
        const ended = entries.find((e) => e.event_type === 'segment.ended');
        expect(ended?.data).toMatchObject({ segment: index, failure: null, exit_code: 0 });
        if (index < 3) {
          // A checkpoint of this segment precedes its end, and it is the last step's.
          const lastCheckpoint = types.lastIndexOf('checkpoint');
          expect(lastCheckpoint).toBeGreaterThan(types.lastIndexOf('skill.execute'));
          expect(lastCheckpoint).toBeLessThan(types.indexOf('segment.ended'));
          expect(entries[lastCheckpoint]?.data).toMatchObject({ segment: index });
          expect(types.filter((t) => t === 'llm.call' || t === 'skill.execute')).toEqual([
            'llm.call',
            'skill.execute',
          ]);
        } else {
          expect(types).toContain('llm.call');
          expect(types.at(-2)).toBe('run.transition');
          expect(entries.at(-2)?.data).toMatchObject({ from: 'running', to: 'done' });
        }
      }
      // Nothing but the API and the supervisor moved it: no chat message came in.
      expect(chain.filter((e) => e.event_type === 'message.ingest')).toEqual([]);
      const view = await host.getRun(run.id);
      expect(view.goals.map((g) => g.state)).toEqual(['met']);
      const verify = await host.request('GET', '/v1/chain/verify');
      expect(verify.body).toMatchObject({ ok: true });
      // Issue 17 #20: each segment's agent token was dropped from redaction when revoked.
      expect(host.started.redactor.knownValueCount).toBe(knownBefore);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'refuses a completion claim whose predicates do not hold, records it, and lets the run go on until its budget ends it',
    async () => {
      host = await startAutonomyHost({
        packs: [SMALL],
        transcript: {
          on_exhausted: 'loop_last',
          entries: [callEntry('c1', ECHO, { text: 'hello' }), doneEntry('Finished, honestly.')],
        },
      });
      const created = await host.createRun({
        goal: 'Echo hello.',
        policy_pack: 'small',
        completion: ECHO_SUCCEEDED,
        subgoals: [
          { text: 'A goal that is never met.', predicate: { kind: 'never' } },
          {
            text: 'Record that the report was sent.',
            predicate: { kind: 'json_logic', rule: { '==': [{ var: 'memory.sent' }, true] } },
          },
        ],
        budget: { max_steps: 6 },
      });
      const run = await host.settle(created.id);
      expect(run.state).toBe('failed');
      expect(run.state_reason).toBe('budget_exceeded:steps');

      const chain = await host.runChain(run.id);
      const refusals = chain.filter(
        (e) => e.event_type === 'policy.decision' && e.rule_id === 'completion.predicate',
      );
      // Steps 3..6 are all `complete` answers (echo was step 2): four claims, four refusals.
      expect(refusals).toHaveLength(4);
      for (const r of refusals) {
        // Goal 0 (echo succeeded) holds; the `never` and the JSON Logic goals do not.
        expect(r.data).toEqual({ decision: 'refused', claim: 'complete', unmet: [1, 2] });
      }
      // The run continued after each refusal: more model calls followed the first one.
      const firstRefusal = chain.indexOf(refusals[0] as ChainEntry);
      expect(chain.slice(firstRefusal).filter((e) => e.event_type === 'llm.call')).toHaveLength(3);
      // The run ended on its budget, not on worker faults.
      expect(run.usage).toMatchObject({ steps: 6, retries: 0 });
      expect(chain.some((e) => e.event_type === 'run.transition' && e.data.to === 'done')).toBe(
        false,
      );
      const view = await host.getRun(run.id);
      expect(view.goals.map((g) => g.state)).toEqual(['open', 'open', 'open']);
    },
    RUN_TIMEOUT_MS,
  );
});
