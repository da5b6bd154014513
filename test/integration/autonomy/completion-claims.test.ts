import { afterEach, describe, expect, it } from 'vitest';
import {
  ECHO,
  RUN_TIMEOUT_MS,
  callEntry,
  doneEntry,
  startAutonomyHost,
  type AutonomyHost,
  type Transcript,
  hostCli,
} from './helpers/autonomy-host.ts';

/** `echo` with a number for its text: the pipeline refuses it with INVALID_INPUT. */
const FAILED_CALL = callEntry('c1', ECHO, { text: 42 });

describe('a completion claim right after a failed tool call', () => {
  let host: AutonomyHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  const run = async (transcript: Transcript, args: string[] = []) => {
    host = await startAutonomyHost({ transcript });
    const ccos = hostCli(host);
    const created = await ccos('--json', 'runs', 'create', 'Echo something.', ...args);
    expect(created.code, created.stderr).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };
    return { done: await host.settle(id), ccos };
  };

  it(
    'is recorded with the failure as its evidence, and the run shows it',
    async () => {
      const { done, ccos } = await run({ entries: [FAILED_CALL, doneEntry('All echoed.')] });
      expect(done.state).toBe('done');
      expect(done.state_reason).toMatch(
        /^claimed complete right after a failed tool call: echo-notes__echo error \(INVALID_INPUT: .*\); the agent said: All echoed\.$/,
      );
      const chain = await host?.runChain(done.id, 'policy.decision');
      const claim = chain?.find((e) => e.rule_id === 'completion.after_failed_tool_call');
      expect(claim?.data).toMatchObject({
        decision: 'accepted',
        claim: 'complete',
        evidence: { tool: ECHO, outcome: 'error' },
      });
      expect(String((claim?.data.evidence as { detail?: unknown }).detail)).toMatch(
        /^INVALID_INPUT: /,
      );
      const show = await ccos('runs', 'show', done.id);
      expect(show.stdout).toMatch(
        /^state {4}done \(claimed complete right after a failed tool call/m,
      );
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'a claim after a successful call carries only the agent’s summary',
    async () => {
      const { done } = await run({
        entries: [callEntry('c1', ECHO, { text: 'hi' }), doneEntry('All echoed.')],
      });
      expect(done.state).toBe('done');
      expect(done.state_reason).toBe('All echoed.');
      const chain = await host?.runChain(done.id, 'policy.decision');
      expect(chain?.some((e) => e.rule_id === 'completion.after_failed_tool_call')).toBe(false);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    '`--until capability:<tool>` refuses the claim after the failure; the run is done only once the tool succeeded',
    async () => {
      const { done, ccos } = await run(
        {
          entries: [
            FAILED_CALL,
            doneEntry('All echoed.'),
            // Told the goal is not met, the agent tries again, properly this time.
            callEntry('c2', ECHO, { text: 'hi' }, { expect: { last_role: 'user' } }),
            doneEntry('Echoed for real.'),
          ],
        },
        ['--until', `capability:${ECHO}`],
      );
      expect(done.state).toBe('done');
      expect(done.state_reason).toBe('Echoed for real.');
      const refused = (await host?.runChain(done.id, 'policy.decision'))?.filter(
        (e) => e.rule_id === 'completion.predicate',
      );
      expect(refused?.map((e) => e.data.decision)).toEqual(['refused']);
      const show = await ccos('runs', 'show', done.id);
      expect(show.stdout).toContain(`#0 met (until capability:${ECHO})`);
    },
    RUN_TIMEOUT_MS,
  );
});
