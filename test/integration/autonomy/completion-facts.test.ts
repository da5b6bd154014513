import { afterEach, describe, expect, it } from 'vitest';
import {
  ECHO,
  RUN_TIMEOUT_MS,
  callEntry,
  doneEntry,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';
import { RecordingSpawner } from './helpers/recording-spawner.ts';

/**
 * Issue 17 #16: completion predicates are evaluated over facts the host recorded (skill
 * steps, their outputs, memory skills wrote), never over the agent's own scratch memory.
 */
describe('completion facts', () => {
  let host: AutonomyHost | undefined;
  let spawner: RecordingSpawner | undefined;
  afterEach(async () => {
    await host?.stop();
    await spawner?.killAll();
    host = undefined;
    spawner = undefined;
  });

  it(
    'a worker that writes its own "goal met" into its run memory and claims completion is refused',
    async () => {
      spawner = new RecordingSpawner(() => 'self_complete');
      host = await startAutonomyHost({ spawner, transcript: { entries: [] } });
      const created = await host.createRun({
        goal: 'Send the report.',
        completion: { kind: 'json_logic', rule: { '==': [{ var: 'memory.sent' }, true] } },
        budget: { max_retries: 1 },
      });
      const refusal = await host.waitForEntry(
        (e) =>
          e.run_id === created.id &&
          e.event_type === 'policy.decision' &&
          e.rule_id === 'completion.predicate',
      );
      expect(refusal.data).toMatchObject({ decision: 'refused', unmet: [0] });
      // The write itself happened: the refusal is about what counts, not a failed write.
      const writes = (await host.runChain(created.id, 'memory.write')).map((e) => e.data.key);
      expect(writes).toContain('sent');
      const run = await host.settle(created.id);
      expect(run.state).not.toBe('done');
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'a predicate over a recorded skill output holds once the skill really returned it',
    async () => {
      host = await startAutonomyHost({
        transcript: {
          entries: [callEntry('c1', ECHO, { text: 'report sent' }), doneEntry('Echoed.')],
        },
      });
      const created = await host.createRun({
        goal: 'Echo that the report was sent.',
        completion: {
          kind: 'json_logic',
          rule: {
            some: [
              { var: 'steps' },
              {
                and: [
                  { '==': [{ var: 'skill_id' }, 'echo-notes'] },
                  { '==': [{ var: 'outcome' }, 'ok'] },
                  { '==': [{ var: 'output.text' }, 'report sent'] },
                ],
              },
            ],
          },
        },
      });
      const run = await host.settle(created.id);
      expect(run.state).toBe('done');
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'a predicate over memory a skill wrote for the run holds, keyed by skill and namespace',
    async () => {
      host = await startAutonomyHost({
        transcript: {
          entries: [
            callEntry('c1', 'echo-notes__remember', { key: 'report', note: 'sent' }),
            doneEntry('Noted.'),
          ],
        },
      });
      const created = await host.createRun({
        goal: 'Note that the report was sent.',
        completion: {
          kind: 'json_logic',
          rule: { '==': [{ var: 'memory.echo-notes.notes.report.note' }, 'sent'] },
        },
      });
      const run = await host.settle(created.id);
      expect(run.state).toBe('done');
    },
    RUN_TIMEOUT_MS,
  );
});
